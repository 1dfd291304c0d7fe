from django.db import models


class Article(models.Model):
    title = models.CharField(max_length=50)

    class Meta:
        app_label = "truthapp"

    def __str__(self) -> str:
        return self.title

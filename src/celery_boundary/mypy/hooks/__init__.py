"""Hook phase: the work mypy's hooks are routed to (plugin.py) while it checks code.

Each module is imported when the first hook is routed to it, so a run pays only for the checks
its modules use: task definitions (``definitions``, ``tasks``, ``bound_calls``, ``task_names``),
task calls (``calls``, ``by_name``), the canvas (``canvas``, ``canvas_nodes``, ``group_results``),
class hooks (``bases``), the checked module's own registrations (``registrations``), and the
boundary judgement with its type conversions (``boundary``, ``types_to_shapes``,
``shapes_to_types``).
"""

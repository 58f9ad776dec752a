from console.tasks import TaskContext, task  # noqa: F401

raise RuntimeError("this plugin is broken at import")

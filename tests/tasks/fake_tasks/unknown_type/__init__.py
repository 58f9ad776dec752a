"""A task with a parameter of a type forms cannot show."""
from console.tasks import TaskContext, task


@task(title="Unknown type")
def unknown_type(ctx: TaskContext, ratio: float) -> str:
    """A float is not a task parameter type."""
    return "never"

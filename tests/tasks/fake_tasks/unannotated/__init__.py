"""A task with a parameter that has no type annotation."""
from console.tasks import TaskContext, task


@task(title="No annotation")
def no_annotation(ctx: TaskContext, order_id) -> str:
    """Missing the annotation of order_id."""
    return "never"

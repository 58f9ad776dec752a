from console.tasks import TaskContext, task


@task(title="Twin")
def twin(ctx: TaskContext, order_id: int) -> str:
    """The first twin."""
    return "first"

from console.tasks import TaskContext, task


@task(title="Twin again", name="twin")
def another_twin(ctx: TaskContext, order_id: int) -> str:
    """The second twin."""
    return "second"

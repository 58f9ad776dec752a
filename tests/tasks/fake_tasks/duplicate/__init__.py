"""Two modules declaring the same task name: discovery must stop and name both files."""

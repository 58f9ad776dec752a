"""Account tasks: signing in, confirmation and password emails, email changes and erasure."""

"""Order tasks: addresses, cancellation, refunds, shipping emails and stuck orders."""

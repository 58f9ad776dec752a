"""Chat webhooks: an outbox in the console database, and a sender that posts it signed, in order.

`notify(session, kind, template, **fields)` (outbox.py) queues a message in the caller's
transaction; `start_webhook_sender(app)` (sender.py) runs the sender in the serving process.
docs/WEBHOOKS.md is the receiver's side.
"""

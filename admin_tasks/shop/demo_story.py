"""The shop's demo ticket story: six months of support as `demo-data` tells it on the dashboard.

Volume grows, a holiday season brings more order problems, and the ten starter tasks "ship" one after
another. Problems that never got a tool keep being escalated: they top the opportunity ranking.
"""
from console.product import Problem, TicketStory

DEMO_TICKETS = TicketStory(
    problems=[
        Problem("account", "cannot-log-in", "unlock_account", 0.0, "", "small_change", 25, 10),
        Problem("account", "password-reset", "send_password_reset", 0.0, "", "small_change", 20, 8),
        Problem("account", "confirmation-email-missing", "resend_confirmation_email", 0.12, "", "small_change", 20, 7),
        Problem("account", "change-email-address", "change_email", 0.25, "", "small_change", 45, 5),
        Problem("orders", "cancel-order", "cancel_order", 0.33, "", "small_change", 35, 6, season=1.5),
        Problem("orders", "wrong-shipping-address", "update_shipping_address", 0.42, "", "small_change", 30, 5,
                season=1.8),
        Problem("orders", "order-stuck-in-processing", "fix_stuck_order", 0.5, "", "small_change", 80, 6, season=2.0),
        Problem("orders", "where-is-my-order", "resend_shipping_notification", 0.58, "", "knowledge", 20, 9,
                season=2.2),
        Problem("payments", "refund-request", "refund_order", 0.68, "", "small_change", 50, 7, season=1.4,
                approval=True),
        Problem("privacy", "delete-account-and-data", "anonymize_customer", 0.82, "", "specialist", 120, 2,
                approval=True),
        Problem("orders", "wrong-shipping-address", None, 1.1, "a task to split an order into two shipments",
                "small_change", 95, 2, season=2.0, growth=5),
        Problem("account", "", None, 1.1, "a task to merge duplicate customer accounts", "small_change", 70, 3,
                growth=1),
        Problem("payments", "refund-request", None, 1.1, "a task to change the payment method of an unpaid order",
                "small_change", 60, 3, growth=2),
        Problem("payments", "", None, 1.1, "a runbook about vouchers that were not applied", "knowledge", 25, 3),
        Problem("payments", "", None, 1.1, "a runbook about chargebacks and payment disputes", "specialist", 150,
                1.2),
        Problem("privacy", "delete-account-and-data", None, 1.1, "a task to export a customer's data", "specialist",
                100, 1),
        Problem("general", "escalating-a-ticket", None, 1.1, "a page of the emails we sent a customer", "specialist",
                130, 2),
    ],
    root_causes=[
        "Why 1: the customer could not finish checkout.\nWhy 2: the order stayed in processing.\n"
        "Why 3: the warehouse callback timed out.\nWhy 4: the retry queue was paused during a deploy.\n"
        "Why 5: the deploy runbook does not say to resume it.",
        "Why 1: support asked for a data fix.\nWhy 2: there is no task for it.\n"
        "Why 3: it looked rare.\nWhy 4: nobody counted how often it happens.\nWhy 5: escalations were not categorised.",
        "Why 1: the email bounced.\nWhy 2: the customer typed the address wrong at signup.\n"
        "Why 3: the signup form does not ask to confirm it.\nWhy 4: it was removed to shorten signup.\n"
        "Why 5: the trade-off was never reviewed.",
    ],
)

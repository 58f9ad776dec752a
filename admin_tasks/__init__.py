"""The starter task plugins for the demo shop, grouped by domain, and the shop's schema."""

"""The shipped runbooks (Markdown). A package only so that installing the project installs them beside console/."""

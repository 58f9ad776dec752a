"""The JSON API blueprint: paths, errors and the answers common to every route."""

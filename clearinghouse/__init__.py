"""clearinghouse: one trustworthy, current list of self-help group meetings across fellowships.

This package is the entry layer: the `clearinghouse` command, the stage runner, the download and demo
servers, alerts and the Airflow wiring. The version is `foundation.__version__`.
"""

"""Data quality with Great Expectations: suites per layer (``suites``), gates that quarantine, block or flag
(``gate``), and the reports operators read — Data Docs and the source scorecard (``data_docs``).

Importing this package imports Great Expectations (seconds): stage functions import it when they run,
never a DAG file at parse time.
"""

from warehouse.quality.data_docs import build_reports
from warehouse.quality.gate import (
    QualityGateFailed,
    quality_summary,
    validate_core,
    validate_release,
    validate_staging,
)

__all__ = [
    "QualityGateFailed",
    "build_reports",
    "quality_summary",
    "validate_core",
    "validate_release",
    "validate_staging",
]

"""Organization records (``extractors.organizations``: DBSA chapters, NAMI affiliates) as Open Referral HSDS rows.

Each chapter is an ``organization`` whose parent is its fellowship's organization (the same UUID the meeting
export gives the fellowship), with a physical ``location`` and ``address`` when the source gave a whole address
and the chapter's office ``phone``; each group it holds is a ``service`` whose ``description`` keeps the
schedule in the source's words (a free-text "2nd and 4th Thursdays" is not forced into an HSDS schedule), linked
to the chapter's location. Ids are stable UUIDs of the source and its key. Not yet part of a release: it becomes
one when a registry entry of an organization family exists (the interface is ``extractors/organizations``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from extractors.organizations import Organization
from foundation.ids import uuid_for


def hsds_rows(source_id: str, organizations: Sequence[Organization]) -> dict[str, list[dict[str, Any]]]:
    """The HSDS tables (official field names) of one source's organizations."""
    tables: dict[str, list[dict[str, Any]]] = {
        n: [] for n in ("organization", "service", "location", "address", "service_at_location", "phone")
    }
    for org in organizations:
        key = f"{source_id}\x1f{org.source_key}"
        org_id = uuid_for("organization", key)
        parent = uuid_for("organization", org.fellowship)
        tables["organization"].append({
            "id": org_id, "name": org.name, "description": f"{org.name}: a {org.fellowship} chapter",
            "email": org.email, "website": org.website, "parent_organization_id": parent,
        })  # fmt: skip
        location_id = None
        if org.city or org.address:
            location_id = uuid_for("location", key)
            tables["location"].append({"id": location_id, "location_type": "physical", "organization_id": org_id,
                                       "name": org.name})  # fmt: skip
            if org.address and org.city and org.region_code and org.postal_code:
                tables["address"].append({
                    "id": uuid_for("address", key), "location_id": location_id, "address_1": org.address,
                    "city": org.city, "state_province": org.region_code, "postal_code": org.postal_code,
                    "country": org.country, "address_type": "physical",
                })  # fmt: skip
        if org.phone:
            tables["phone"].append({"id": uuid_for("phone", key), "organization_id": org_id, "number": org.phone,
                                    "type": "voice", "description": f"Office of {org.name}"})  # fmt: skip
        for i, group in enumerate(org.groups):
            service_id = uuid_for("service", f"{key}\x1f{i}")
            when = f"Meets: {group.schedule}" if group.schedule else "Schedule: ask the chapter"
            tables["service"].append({
                "id": service_id, "organization_id": org_id, "name": group.name, "url": group.url, "status": "active",
                "description": "; ".join(x for x in (when, f"Where: {group.place}" if group.place else None) if x),
            })  # fmt: skip
            if location_id:
                link = uuid_for("service_at_location", f"{key}\x1f{i}")
                tables["service_at_location"].append({"id": link, "service_id": service_id, "location_id": location_id})
    return tables

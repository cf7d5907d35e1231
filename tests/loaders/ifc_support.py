"""IFC models built in tests with ifcopenshell.api (no files from elsewhere)."""

from __future__ import annotations

from typing import Any

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.project
import ifcopenshell.api.root
import ifcopenshell.api.unit


def ifc_skeleton(schema: str = "IFC4", *, unit: str | None = "MILLI",
                 name: str = "Synthetic", storey_name: str = "Ground") -> tuple[Any, Any, Any]:
    """A new model with project / site / building / storey, a length unit (``unit``: an SI
    prefix such as "MILLI", None for the metre) and a body context.

    Returns ``(file, body_context, storey)``."""
    f = ifcopenshell.api.project.create_file(version=schema)
    if schema == "IFC2X3":  # IFC2X3 requires owner histories: an author and a tool
        org = f.createIfcOrganization(Name="RealScene tests")
        f.createIfcPersonAndOrganization(f.createIfcPerson(FamilyName="Test"), org)
        f.createIfcApplication(org, "1", "RealScene tests", "realscene-tests")
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name=name)
    length = ifcopenshell.api.unit.add_si_unit(f, unit_type="LENGTHUNIT", prefix=unit)
    ifcopenshell.api.unit.assign_unit(f, units=[length])
    model = ifcopenshell.api.context.add_context(f, context_type="Model")
    body = ifcopenshell.api.context.add_context(
        f, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW",
        parent=model)
    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="Site")
    building = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuilding", name="B")
    storey = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuildingStorey",
                                                 name=storey_name)
    ifcopenshell.api.aggregate.assign_object(f, relating_object=project, products=[site])
    ifcopenshell.api.aggregate.assign_object(f, relating_object=site, products=[building])
    ifcopenshell.api.aggregate.assign_object(f, relating_object=building, products=[storey])
    return f, body, storey

"""The one registry of exported tables (DESIGN section 4). Column lists are the contract: add at the end only."""

from __future__ import annotations

from hubspot_pipeline.store import Column
from hubspot_pipeline.tables import crm_tables as crm
from hubspot_pipeline.tables import definition_tables as d
from hubspot_pipeline.tables import event_tables as events
from hubspot_pipeline.tables import health_tables as health
from hubspot_pipeline.tables import list_tables as lists
from hubspot_pipeline.tables.spec import CustomCheck, Reference, TableSpec, columns

INGESTEDAT = ("INGESTEDAT", "timestamp")
# the CRM tables are projections of the index the sync asset keeps
CRM_INDEX = ("hubspot", "crm_index")
_OBJECT_COLUMNS = columns(
    ("OBJECTTYPEID", "string"),
    ("OBJECTID", "integer"),
    ("CREATEDAT", "timestamp"),
    ("UPDATEDAT", "timestamp"),
    INGESTEDAT,
)

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        name="OBJECT_AND_EVENT_TYPE_DEFINITIONS",
        group="definitions",
        description="One row per object type (standard and custom) and event type in the account.",
        columns=columns(
            ("TYPEID", "string"),
            ("KIND", "string"),
            ("NAME", "string"),
            ("FULLYQUALIFIEDNAME", "string"),
            ("LABELSINGULAR", "string"),
            ("LABELPLURAL", "string"),
            ("TABLENAME", "string"),
            ("ISCUSTOM", "boolean"),
            ("PRIMARYDISPLAYPROPERTY", "string"),
            ("CREATEDAT", "timestamp"),
            ("UPDATEDAT", "timestamp"),
            INGESTEDAT,
        ),
        primary_key=("TYPEID",),
        produce=d.produce_object_type_definitions,
    ),
    TableSpec(
        name="PROPERTY_DEFINITIONS",
        group="definitions",
        description="One row per (object type, property), archived properties included and flagged.",
        columns=columns(
            ("OBJECTTYPEID", "string"),
            ("NAME", "string"),
            ("LABEL", "string"),
            ("TYPE", "string"),
            ("FIELDTYPE", "string"),
            ("GROUPNAME", "string"),
            ("DESCRIPTION", "string"),
            ("OPTIONS", "json"),
            ("DISPLAYORDER", "integer"),
            ("CALCULATED", "boolean"),
            ("HASUNIQUEVALUE", "boolean"),
            ("HIDDEN", "boolean"),
            ("HUBSPOTDEFINED", "boolean"),
            ("ARCHIVED", "boolean"),
            ("CREATEDAT", "timestamp"),
            ("UPDATEDAT", "timestamp"),
            INGESTEDAT,
        ),
        primary_key=("OBJECTTYPEID", "NAME"),
        references=(Reference(("OBJECTTYPEID",), "OBJECT_AND_EVENT_TYPE_DEFINITIONS", ("TYPEID",)),),
        upstream=("OBJECT_AND_EVENT_TYPE_DEFINITIONS",),
        produce=d.produce_property_definitions,
    ),
    TableSpec(
        name="ASSOCIATION_DEFINITIONS",
        group="definitions",
        description="One row per directed association type between two object types, labels included.",
        columns=columns(
            ("FROMOBJECTTYPEID", "string"),
            ("TOOBJECTTYPEID", "string"),
            ("ASSOCIATIONTYPEID", "integer"),
            ("CATEGORY", "string"),
            ("LABEL", "string"),
            ("NAME", "string"),
            ("ISPRIMARY", "boolean"),
            INGESTEDAT,
        ),
        primary_key=("FROMOBJECTTYPEID", "TOOBJECTTYPEID", "ASSOCIATIONTYPEID"),
        references=(
            Reference(("FROMOBJECTTYPEID",), "OBJECT_AND_EVENT_TYPE_DEFINITIONS", ("TYPEID",)),
            Reference(("TOOBJECTTYPEID",), "OBJECT_AND_EVENT_TYPE_DEFINITIONS", ("TYPEID",)),
        ),
        upstream=("OBJECT_AND_EVENT_TYPE_DEFINITIONS",),
        produce=d.produce_association_definitions,
    ),
    TableSpec(
        name="OWNERS",
        group="owners",
        description="One row per owner, archived (deactivated) owners included.",
        columns=columns(
            ("OWNERID", "integer"),
            ("EMAIL", "string"),
            ("FIRSTNAME", "string"),
            ("LASTNAME", "string"),
            ("USERID", "integer"),
            ("TYPE", "string"),
            ("ARCHIVED", "boolean"),
            ("CREATEDAT", "timestamp"),
            ("UPDATEDAT", "timestamp"),
            INGESTEDAT,
        ),
        primary_key=("OWNERID",),
        produce=d.produce_owners,
    ),
    TableSpec(
        name="TEAMS",
        group="owners",
        description="One row per team.",
        columns=columns(("TEAMID", "integer"), ("NAME", "string"), INGESTEDAT),
        primary_key=("TEAMID",),
        produce=d.produce_teams,
    ),
    TableSpec(
        name="OWNER_TEAM",
        group="owners",
        description="One row per (owner, team) membership; ISPRIMARY marks the owner's primary team.",
        columns=columns(("OWNERID", "integer"), ("TEAMID", "integer"), ("ISPRIMARY", "boolean"), INGESTEDAT),
        primary_key=("OWNERID", "TEAMID"),
        references=(
            Reference(("OWNERID",), "OWNERS", ("OWNERID",)),
            Reference(("TEAMID",), "TEAMS", ("TEAMID",)),
        ),
        upstream=("OWNERS", "TEAMS"),
        produce=d.produce_owner_team,
    ),
    TableSpec(
        name="PIPELINES",
        group="pipelines",
        description="One row per pipeline of every object type that has pipelines (deals, tickets, ...).",
        columns=columns(
            ("OBJECTTYPEID", "string"),
            ("PIPELINEID", "string"),
            ("LABEL", "string"),
            ("DISPLAYORDER", "integer"),
            ("ARCHIVED", "boolean"),
            ("CREATEDAT", "timestamp"),
            ("UPDATEDAT", "timestamp"),
            INGESTEDAT,
        ),
        primary_key=("OBJECTTYPEID", "PIPELINEID"),
        produce=d.produce_pipelines,
    ),
    TableSpec(
        name="PIPELINE_STAGES",
        group="pipelines",
        description="One row per pipeline stage, with the stage metadata HubSpot keeps (probability, state).",
        columns=columns(
            ("OBJECTTYPEID", "string"),
            ("PIPELINEID", "string"),
            ("STAGEID", "string"),
            ("LABEL", "string"),
            ("DISPLAYORDER", "integer"),
            ("PROBABILITY", "number"),
            ("ISCLOSED", "boolean"),
            ("TICKETSTATE", "string"),
            ("METADATA", "json"),
            ("ARCHIVED", "boolean"),
            ("CREATEDAT", "timestamp"),
            ("UPDATEDAT", "timestamp"),
            INGESTEDAT,
        ),
        primary_key=("OBJECTTYPEID", "PIPELINEID", "STAGEID"),
        references=(Reference(("OBJECTTYPEID", "PIPELINEID"), "PIPELINES", ("OBJECTTYPEID", "PIPELINEID")),),
        upstream=("PIPELINES",),
        produce=d.produce_pipeline_stages,
    ),
    # -- CRM records: projections of the CRM index (hubspot/crm_index) as of the day --------------------
    TableSpec(
        name="OBJECTS",
        group="crm",
        description="One row per record of every object type that exists at the end of the day; writes the "
        "per-type OBJECTS_<PLURAL> tables (a PROPERTY_<NAME> column per property definition) too.",
        columns=_OBJECT_COLUMNS,
        primary_key=("OBJECTTYPEID", "OBJECTID"),
        produce=crm.produce_objects,
        per_type_tables=crm.objects_tables,
        calls_api=False,
        custom_checks=(
            CustomCheck(
                "per_type_counts_add_up",
                "The OBJECTS_<PLURAL> row counts add up to the OBJECTS row count.",
                crm.check_per_type_counts,
                blocking=False,
                after_per_type=True,
            ),
        ),
        asset_deps=(CRM_INDEX,),
    ),
    TableSpec(
        name="OBJECT_WITH_OBJECT_PROPERTIES",
        group="crm",
        description="One row per record, its property values as of the day in one flat JSON object.",
        columns=(*_OBJECT_COLUMNS, Column("PROPERTIES", "json")),
        primary_key=("OBJECTTYPEID", "OBJECTID"),
        produce=crm.produce_object_with_properties,
        calls_api=False,
        asset_deps=(CRM_INDEX,),
    ),
    TableSpec(
        name="OBJECT_PROPERTIES",
        group="crm",
        description="One row per (record, property with a value) as of the day; UPDATEDAT is when it was set.",
        columns=columns(
            ("OBJECTTYPEID", "string"),
            ("OBJECTID", "integer"),
            ("NAME", "string"),
            ("VALUE", "string"),
            ("UPDATEDAT", "timestamp"),
            INGESTEDAT,
        ),
        primary_key=("OBJECTTYPEID", "OBJECTID", "NAME"),
        produce=crm.produce_object_properties,
        calls_api=False,
        custom_checks=(
            CustomCheck(
                "values_match_history",
                "Every value read back equals the latest history entry at or before the day.",
                crm.check_values_match_history,
            ),
        ),
        asset_deps=(CRM_INDEX,),
    ),
    TableSpec(
        name="OBJECT_PROPERTIES_HISTORY",
        group="crm",
        description="One row per distinct historical property value set at or before the day, with its source.",
        columns=columns(
            ("OBJECTTYPEID", "string"),
            ("OBJECTID", "integer"),
            ("NAME", "string"),
            ("VALUE", "string"),
            ("UPDATEDAT", "timestamp"),
            INGESTEDAT,
            ("SOURCETYPE", "string"),
            ("SOURCEID", "string"),
            ("UPDATEDBYUSERID", "integer"),
        ),
        primary_key=(
            "OBJECTTYPEID",
            "OBJECTID",
            "NAME",
            "UPDATEDAT",
            "VALUE",
            "SOURCETYPE",
            "SOURCEID",
            "UPDATEDBYUSERID",
        ),
        produce=crm.produce_object_properties_history,
        calls_api=False,
        asset_deps=(CRM_INDEX,),
    ),
    TableSpec(
        name="ASSOCIATIONS",
        group="crm",
        description="One row per (from record, to record, association type) between records existing at the "
        "end of the day; writes the per-pair ASSOCIATIONS_<FROM>_TO_<TO> tables too. Current state (see notes).",
        columns=columns(
            ("FROMOBJECTTYPEID", "string"),
            ("FROMOBJECTID", "integer"),
            ("TOOBJECTTYPEID", "string"),
            ("TOOBJECTID", "integer"),
            ("ASSOCIATIONTYPEID", "integer"),
            ("CATEGORY", "string"),
            ("LABEL", "string"),
            INGESTEDAT,
        ),
        primary_key=("FROMOBJECTTYPEID", "FROMOBJECTID", "TOOBJECTTYPEID", "TOOBJECTID", "ASSOCIATIONTYPEID"),
        references=(
            Reference(("FROMOBJECTTYPEID", "FROMOBJECTID"), "OBJECTS", ("OBJECTTYPEID", "OBJECTID")),
            Reference(("TOOBJECTTYPEID", "TOOBJECTID"), "OBJECTS", ("OBJECTTYPEID", "OBJECTID")),
        ),
        upstream=("OBJECTS",),
        produce=crm.produce_associations,
        per_type_tables=crm.associations_tables,
        calls_api=False,
        asset_deps=(CRM_INDEX,),
    ),
    TableSpec(
        name="LISTS",
        group="lists",
        description="One row per list (segment) existing at the end of the day, with its processing type.",
        columns=columns(
            ("LISTID", "integer"),
            ("NAME", "string"),
            ("LISTTYPE", "string"),
            ("OBJECTTYPEID", "string"),
            ("SIZE", "integer"),
            ("PROCESSINGSTATUS", "string"),
            ("CREATEDAT", "timestamp"),
            ("UPDATEDAT", "timestamp"),
            INGESTEDAT,
        ),
        primary_key=("LISTID",),
        produce=lists.produce_lists,
        # the memberships are read here (SIZE counts them) and build on the index: its tombstones and
        # changed records tell which lists need no paging
        asset_deps=(CRM_INDEX,),
    ),
    TableSpec(
        name="LIST_MEMBERSHIPS",
        group="lists",
        description="One row per (list, record) membership added by the end of the day.",
        columns=columns(
            ("LISTID", "integer"),
            ("OBJECTTYPEID", "string"),
            ("OBJECTID", "integer"),
            ("ADDEDAT", "timestamp"),
            INGESTEDAT,
        ),
        primary_key=("LISTID", "OBJECTID"),
        references=(
            Reference(("LISTID",), "LISTS", ("LISTID",)),
            Reference(("OBJECTTYPEID", "OBJECTID"), "OBJECTS", ("OBJECTTYPEID", "OBJECTID")),
        ),
        upstream=("LISTS", "OBJECTS"),
        produce=lists.produce_list_memberships,
    ),
    TableSpec(
        name="EVENTS",
        group="events",
        description=(
            "One row per event occurrence of the day, every type; the per-type tables EVENTS_<NAME> "
            "hold the same rows with one PROPERTY_<NAME> column per event property."
        ),
        columns=columns(
            ("ID", "string"),
            ("EVENTTYPE", "string"),
            ("OBJECTTYPEID", "string"),
            ("OBJECTID", "integer"),
            ("OCCURREDAT", "timestamp"),
            ("PROPERTIES", "json"),
            INGESTEDAT,
        ),
        primary_key=("ID",),
        references=(Reference(("OBJECTTYPEID", "OBJECTID"), "OBJECTS", ("OBJECTTYPEID", "OBJECTID")),),
        upstream=("OBJECTS", "OBJECT_AND_EVENT_TYPE_DEFINITIONS"),
        asset_deps=(CRM_INDEX,),
        produce=events.produce_events,
        per_type_tables=events.events_tables,
        custom_checks=(
            CustomCheck(
                "occurred_within_day",
                "Every OCCURREDAT falls within the partition's day.",
                events.check_occurred_within_day,
            ),
        ),
    ),
    TableSpec(
        name="SYNC_HEALTH",
        group="health",
        description=(
            "One row per (object type, state, error category): records SYNCED, DELETED (archived or "
            "merged away), EXCLUDED by the sync settings and FAILED, as of the end of the day, with a hint "
            "on what to do; and one UNAVAILABLE row per type the token cannot sync (NOT_ACTIVATED, "
            "MISSING_SCOPES naming the scope to add, NOT_AVAILABLE)."
        ),
        columns=columns(
            ("OBJECTTYPEID", "string"),
            ("STATE", "string"),
            ("ERRORCATEGORY", "string"),
            ("RECORDS", "integer"),
            ("HOWTOFIX", "string"),
            INGESTEDAT,
        ),
        primary_key=("OBJECTTYPEID", "STATE", "ERRORCATEGORY"),
        produce=health.produce_sync_health,
        calls_api=False,
        asset_deps=(CRM_INDEX,),
        custom_checks=(
            CustomCheck(
                "no_failed_records",
                "Fails when any record of the day failed to sync (an alert: SYNC_HEALTH is still published, "
                "since it is the table that reports them).",
                health.check_no_failed_records,
                blocking=False,
            ),
        ),
    ),
    TableSpec(
        name="SYNC_ISSUES",
        group="health",
        description=(
            "One row per record FAILED or EXCLUDED at the end of the day: HubSpot's error category and "
            "message with a hint on what to do and the attempts so far, or FILTERED with the condition of "
            "the sync settings that leaves the record out; and one row per UNAVAILABLE type (no OBJECTID) "
            "with HubSpot's answer and what to change."
        ),
        columns=columns(
            ("OBJECTTYPEID", "string"),
            ("OBJECTID", "integer"),
            ("STATE", "string"),
            ("ERRORCATEGORY", "string"),
            ("MESSAGE", "string"),
            ("HOWTOFIX", "string"),
            ("FIRSTSEENAT", "timestamp"),
            ("LASTATTEMPTAT", "timestamp"),
            ("ATTEMPTS", "integer"),
            INGESTEDAT,
        ),
        primary_key=("OBJECTTYPEID", "OBJECTID"),
        produce=health.produce_sync_issues,
        calls_api=False,
        asset_deps=(CRM_INDEX,),
        custom_checks=(
            CustomCheck(
                "issues_match_health",
                "Blocks publishing unless SYNC_ISSUES lists, per object type and state, as many records as "
                "SYNC_HEALTH counts FAILED and EXCLUDED.",
                health.check_issues_match_health,
            ),
        ),
    ),
)

SPECS: dict[str, TableSpec] = {spec.name: spec for spec in TABLES}

# The definition tables whose snapshots the CRM index sync plans from (types, properties, pairs).
SYNC_DEFINITION_TABLES = (
    "OBJECT_AND_EVENT_TYPE_DEFINITIONS",
    "PROPERTY_DEFINITIONS",
    "ASSOCIATION_DEFINITIONS",
)
# The tables projected from the CRM index (each with its per-type or per-pair tables).
CRM_TABLES = (
    "OBJECTS",
    "OBJECT_WITH_OBJECT_PROPERTIES",
    "OBJECT_PROPERTIES",
    "OBJECT_PROPERTIES_HISTORY",
    "ASSOCIATIONS",
)

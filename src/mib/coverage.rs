//! What of PowerNet-MIB's UPS subtree (`1.3.6.1.4.1.318.1.1.1`) the point
//! table deliberately does not read, and why: coverage is a decision, not
//! an accident. A test walks every object of the subtree (extracted from
//! the MIB text into `powernet_ups_objects.tsv`) and requires each readable
//! one to be a source of the point table or to lie under an entry here.
//!
//! Entries name an object or a group (a node or table: everything below it
//! is left out). Row indexes, tables and entries are no values and need no
//! entry.

/// `(object or group name, reason)`.
pub static POWERNET_LEFT_OUT: &[(&str, &str)] = &[
    // ---- battery
    ("upsAdvBatteryActualVoltageTable", FRAMES),
    ("upsAdvTotalDCCurrentTable", FRAMES),
    ("upsAdvBatteryCurrentTable", FRAMES),
    ("upsHighPrecBatteryActualVoltageTable", FRAMES),
    ("upsHighPrecTotalDCCurrentTable", FRAMES),
    ("upsHighPrecBatteryCurrentTable", FRAMES),
    ("upsHighPrecBatteryPackTableSize", ROW_COUNT),
    ("upsHighPrecBatteryPackOnlyTableSize", ROW_COUNT),
    (
        "upsHighPrecBatteryPackTable",
        "indexed by pack and cartridge (two arcs, both significant); the per-pack facts are published from upsHighPrecBatteryPackOnlyTable",
    ),
    ("upsHighPrecBatteryPackOnlyStatus", BITS),
    ("upsHighPrecBatteryPackOnlyHealth", BITS),
    ("upsHighPrecBatteryHealth", BITS),
    ("upsBatteryCabinetNumberOfVerticalPositions", LAYOUT),
    ("upsBatteryCabinetNumberOfHorizontalPositions", LAYOUT),
    (
        "upsBatteryCabBlockTable",
        "per-block inventory of large battery systems (hundreds of rows): cabinets and strings are published",
    ),
    (
        "upsBatteryCabBlockCellTable",
        "per-cell readings of large battery systems (thousands of rows): the cell voltage extremes are published",
    ),
    // ---- input / output
    (
        "upsAdvInputApparentPower",
        "per-feed copy of upsAdvInputTotalApparentPower (published)",
    ),
    (
        "upsAdvInputActivePower",
        "per-feed copy of upsAdvInputTotalActivePower (published)",
    ),
    (
        "upsPhaseInputType",
        "feed 1 is the main input and feed 2 the bypass on every card with two feeds; the index rule of the point table says so",
    ),
    ("upsPhaseInputName", "a free-text name of an input feed"),
    // ---- config
    (
        "upsAdvConfigPassword",
        "the front-panel password: a secret is never published",
    ),
    (
        "upsAdvConfigAllowedSetTable",
        "metadata (allowed values per OID), not a reading",
    ),
    // ---- control
    (
        "upsAdvControlFirmwareUpdate",
        "firmware updates are not a remote control a gateway should offer",
    ),
    // ---- state
    ("upsAdvStateSymmetra3PhaseSpecificFaults", MODEL_FAULTS),
    ("upsAdvStateDP300ESpecificFaults", MODEL_FAULTS),
    ("upsAdvStateSymmetraSpecificFaults", MODEL_FAULTS),
    ("upsAdvStateSmartUPSSpecificFaults", MODEL_FAULTS),
    ("upsAdvStateGalaxyVseriesSpecificFault", MODEL_FAULTS),
    ("upsAdvStateGutorModularSpecificFaults", MODEL_FAULTS),
    // ---- outlet groups
    (
        "upsOutletGroupConfigTableSize",
        "same as upsOutletGroupStatusTableSize (published)",
    ),
    (
        "upsOutletGroupControlTableSize",
        "same as upsOutletGroupStatusTableSize (published)",
    ),
    (
        "upsOutletGroupConfigOutletType",
        "same as upsOutletGroupStatusOutletType (published)",
    ),
    // ---- whole groups without a page
    (
        "upsSyncCtrlGroup",
        "synchronized control groups: a multi-UPS feature of the card, configured on the card",
    ),
    ("upsDiagnosticIM", MODULES),
    ("upsDiagnosticPowerModules", MODULES),
    ("upsDiagnosticBatteries", MODULES),
    ("upsDiagnosticSubsystem", MODULES),
    ("upsDiagnosticExternalDevices", MODULES),
    ("upsDiagnosticComBus", MODULES),
    ("upsDiagnosticPowerCabinet", MODULES),
    ("upsDiagnosticDisplay", MODULES),
    ("upsDiagnosticUnitController", MODULES),
    ("upsDiagnosticSLC", MODULES),
    (
        "upsDiagnosticLifeCycleManagement",
        "maintenance intervals in days: service information, no page",
    ),
    (
        "upsParallelSystem",
        "parallel systems: one gateway UPS is one UPS; the system totals belong to a parallel-system page that does not exist",
    ),
    ("upsPhysicalLayout", LAYOUT),
    (
        "upsIntegratedATS",
        "integrated transfer switch of a few models: no page",
    ),
    ("upsDCOutput", "DC outputs of a few models: no page"),
    (
        "upsIntegratedUIO",
        "integrated relays and contacts: no page",
    ),
    (
        "upsEnergyEfficiency",
        "eco/EBM mode statistics; the on-eco-mode flag is published",
    ),
    (
        "upsStatistics",
        "resettable operating statistics in minutes; the card's totals are published from upsAdvState",
    ),
];

const FRAMES: &str = "per battery frame readings by polarity (Galaxy): the totals are published";
const ROW_COUNT: &str = "row count of a table that is walked";
const BITS: &str = "a bit field in an OCTET STRING: not decoded";
const LAYOUT: &str = "physical layout positions: no reading";
const MODEL_FAULTS: &str =
    "model-specific fault flag strings: the generic upsAdvStateAbnormalConditions is published";
const MODULES: &str =
    "per-module diagnostics of modular systems (Symmetra, Galaxy): inventory, no page";

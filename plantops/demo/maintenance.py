"""The demo plant's spare parts and preventive plan, as data. Pure: no Django."""

from __future__ import annotations

# (part number, name, unit, stock, reorder at, location)
PARTS = [
    ("brg-6205-2rs", "Deep-groove ball bearing 6205-2RS", "pcs", 8, 2, "Stores A-03"),
    ("brg-6308-zz", "Deep-groove ball bearing 6308-ZZ", "pcs", 4, 1, "Stores A-03"),
    ("belt-spa-1250", "V-belt SPA 1250", "pcs", 6, 2, "Stores B-11"),
    ("seal-kit-hp", "Hydraulic pump shaft seal kit", "kit", 3, 1, "Stores C-02"),
    ("grease-ep2", "Grease EP2, 400 g cartridge", "pcs", 24, 6, "Lube room"),
    ("filter-hyd-10", "Hydraulic return filter 10 µm", "pcs", 5, 2, "Stores C-04"),
]

# (asset type, title, meter, interval, lead, checklist, minutes): one schedule on each meter.
SCHEDULES = [
    (
        "conveyor",
        "Lubricate drive and idler bearings",
        "runtime",
        250.0,
        25.0,
        "Lock out and tag out\nGrease drive-end and idler bearings (2 shots each)\n"
        "Check belt tracking and tension\nTest run and listen for noise",
        30,
    ),
    (
        "press",
        "Inspect die clamps and gib clearance",
        "cycles",
        200_000.0,
        20_000.0,
        "Lock out and tag out\nCheck die clamp torque\nMeasure gib clearance\n"
        "Check the lube system level",
        60,
    ),
    (
        "pump",
        "Hydraulic pump: filter and seal check",
        "calendar",
        30.0,
        3.0,
        "Replace the return filter\nInspect the shaft seal for weeping\nRecord the case drain",
        45,
    ),
]

# The calendar schedules started this many days ago, so preventive work appears within the
# demo's first minutes; the meter schedules count from the demo's own telemetry.
CALENDAR_STARTED_DAYS_AGO = 28

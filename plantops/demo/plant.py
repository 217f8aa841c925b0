"""The demo plant: a small stamping and packing works, as data. Pure: no Django."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

# (slug, name, unit, expected min, expected max, sampling interval s) per asset type.
# Vibration limits follow ISO 10816-3 zone boundaries for medium machines on rigid mounts.
SIGNALS_BY_TYPE: dict[str, list[tuple[str, str, str, float, float, float]]] = {
    "press": [
        ("vibration", "Frame vibration RMS", "mm/s", 0.0, 7.1, 1.0),
        ("temperature", "Main bearing temperature", "°C", 10.0, 80.0, 5.0),
        ("current", "Main motor current", "A", 0.0, 95.0, 1.0),
        ("speed", "Stroke rate", "spm", 0.0, 24.0, 1.0),
    ],
    "conveyor": [
        ("vibration", "Drive vibration RMS", "mm/s", 0.0, 4.5, 1.0),
        ("temperature", "Gearbox temperature", "°C", 10.0, 75.0, 5.0),
        ("current", "Drive current", "A", 0.0, 18.0, 1.0),
        ("speed", "Belt motor speed", "rpm", 0.0, 1500.0, 1.0),
    ],
    "motor": [
        ("vibration", "Bearing vibration RMS", "mm/s", 0.0, 4.5, 1.0),
        ("temperature", "Winding temperature", "°C", 10.0, 105.0, 5.0),
        ("current", "Phase current", "A", 0.0, 42.0, 1.0),
        ("speed", "Shaft speed", "rpm", 0.0, 1800.0, 1.0),
    ],
    "pump": [
        ("vibration", "Bearing vibration RMS", "mm/s", 0.0, 4.5, 1.0),
        ("temperature", "Bearing temperature", "°C", 10.0, 80.0, 5.0),
        ("current", "Motor current", "A", 0.0, 30.0, 1.0),
        ("speed", "Impeller speed", "rpm", 0.0, 3000.0, 1.0),
    ],
    "fan": [
        ("vibration", "Bearing vibration RMS", "mm/s", 0.0, 4.5, 1.0),
        ("temperature", "Bearing temperature", "°C", 10.0, 75.0, 5.0),
        ("current", "Motor current", "A", 0.0, 22.0, 1.0),
        ("speed", "Fan speed", "rpm", 0.0, 1500.0, 1.0),
    ],
    "compressor": [
        ("vibration", "Casing vibration RMS", "mm/s", 0.0, 7.1, 1.0),
        ("temperature", "Discharge temperature", "°C", 10.0, 95.0, 5.0),
        ("current", "Motor current", "A", 0.0, 60.0, 1.0),
        ("speed", "Motor speed", "rpm", 0.0, 3000.0, 1.0),
    ],
    "robot": [
        ("vibration", "Axis 1 gearbox vibration RMS", "mm/s", 0.0, 4.5, 1.0),
        ("temperature", "Axis 1 motor temperature", "°C", 10.0, 90.0, 5.0),
        ("current", "Axis 1 motor current", "A", 0.0, 12.0, 1.0),
        ("speed", "Axis 1 motor speed", "rpm", 0.0, 3000.0, 1.0),
    ],
    "packer": [
        ("vibration", "Main drive vibration RMS", "mm/s", 0.0, 4.5, 1.0),
        ("temperature", "Main drive temperature", "°C", 10.0, 80.0, 5.0),
        ("current", "Main drive current", "A", 0.0, 25.0, 1.0),
        ("speed", "Main drive speed", "rpm", 0.0, 1500.0, 1.0),
    ],
}


@dataclass(frozen=True)
class DemoAsset:
    slug: str
    name: str
    asset_type: str
    ideal_cycle_time_s: float | None = None


SITE = ("riverside", "Riverside Works", "Europe/Berlin")

# Every line runs three shifts a day, every day, each with a half-hour break: the demo always
# has a shift to show. (name, start, end, [(break start, break end)])
SHIFTS: list[tuple[str, time, time, list[tuple[time, time]]]] = [
    ("Early", time(6), time(14), [(time(10), time(10, 30))]),
    ("Late", time(14), time(22), [(time(18), time(18, 30))]),
    ("Night", time(22), time(6), [(time(2), time(2, 30))]),
]

# area slug, area name, [(line slug, line name, [assets])]
AREAS: list[tuple[str, str, list[tuple[str, str, list[DemoAsset]]]]] = [
    (
        "press-shop",
        "Press shop",
        [
            (
                "press-line-1",
                "Press line 1",
                [
                    DemoAsset("press-1", "Press 1 (400 t)", "press", 3.0),
                    DemoAsset("press-2", "Press 2 (250 t)", "press", 3.0),
                    DemoAsset("transfer-conveyor-1", "Transfer conveyor 1", "conveyor"),
                    DemoAsset("hydraulic-pump-1", "Hydraulic pump 1", "pump"),
                    DemoAsset("coolant-pump-1", "Coolant pump 1", "pump"),
                ],
            ),
            (
                "press-line-2",
                "Press line 2",
                [
                    DemoAsset("press-3", "Press 3 (400 t)", "press", 3.0),
                    DemoAsset("press-4", "Press 4 (250 t)", "press", 3.0),
                    DemoAsset("transfer-conveyor-2", "Transfer conveyor 2", "conveyor"),
                    DemoAsset("hydraulic-pump-2", "Hydraulic pump 2", "pump"),
                    DemoAsset("exhaust-fan-1", "Exhaust fan 1", "fan"),
                ],
            ),
        ],
    ),
    (
        "assembly-packing",
        "Assembly and packing",
        [
            (
                "assembly-line-1",
                "Assembly line 1",
                [
                    DemoAsset("infeed-conveyor", "Infeed conveyor", "conveyor"),
                    DemoAsset("robot-cell-1", "Robot cell 1", "robot", 12.0),
                    DemoAsset("main-drive-motor", "Main drive motor", "motor"),
                    DemoAsset("outfeed-conveyor", "Outfeed conveyor", "conveyor"),
                    DemoAsset("air-compressor-1", "Air compressor 1", "compressor"),
                ],
            ),
            (
                "packing-line-1",
                "Packing line 1",
                [
                    DemoAsset("case-packer", "Case packer", "packer", 6.0),
                    DemoAsset("packer-infeed-conveyor", "Packer infeed conveyor", "conveyor"),
                    DemoAsset("palletizer-motor", "Palletizer motor", "motor"),
                    DemoAsset("vacuum-pump", "Vacuum pump", "pump"),
                    DemoAsset("stretch-wrapper-motor", "Stretch wrapper motor", "motor"),
                ],
            ),
        ],
    ),
]

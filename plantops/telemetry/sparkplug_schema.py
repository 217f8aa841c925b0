"""The Sparkplug B payload schema (Eclipse Sparkplug 3.0), as protobuf message classes.

Why it is built here: the published Python packages that carry the schema each pin what this
project cannot take (pysparkplug requires paho-mqtt < 2; tahu and tahutils pin protobuf 3 or
4). The schema itself is small and fixed by the specification, so it is declared here field by
field, with the specification's names and numbers, and handed to `protobuf`, whose C runtime
(upb) does all encoding and decoding. There is no generated code and no build step.

Declared are the parts PlantOps reads: the payload (timestamp, metrics, seq, uuid, body) and
each metric's name, alias, timestamp, datatype, flags and scalar values. The richer value kinds
(DataSet, Template, PropertySet, MetaData; fields 8, 9, 17–19) are left undeclared: protobuf
keeps them as unknown fields, so a payload carrying them still decodes, and such a metric reads
as one without a value. The wire format is checked against bytes assembled by hand in
tests/telemetry/test_sparkplug_schema.py.
"""

from __future__ import annotations

from enum import IntEnum

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE = "org.eclipse.tahu.protobuf"


class DataType(IntEnum):
    """Sparkplug B datatypes (specification 6.4.16)."""

    UNKNOWN = 0
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15
    DATASET = 16
    BYTES = 17
    FILE = 18
    TEMPLATE = 19
    PROPERTYSET = 20
    PROPERTYSETLIST = 21


_F = descriptor_pb2.FieldDescriptorProto
_OPTIONAL = _F.LABEL_OPTIONAL
_REPEATED = _F.LABEL_REPEATED

# (name, number, type, label, oneof index or None, message type name or None)
_METRIC_FIELDS = [
    ("name", 1, _F.TYPE_STRING, _OPTIONAL, None, None),
    ("alias", 2, _F.TYPE_UINT64, _OPTIONAL, None, None),
    ("timestamp", 3, _F.TYPE_UINT64, _OPTIONAL, None, None),
    ("datatype", 4, _F.TYPE_UINT32, _OPTIONAL, None, None),
    ("is_historical", 5, _F.TYPE_BOOL, _OPTIONAL, None, None),
    ("is_transient", 6, _F.TYPE_BOOL, _OPTIONAL, None, None),
    ("is_null", 7, _F.TYPE_BOOL, _OPTIONAL, None, None),
    ("int_value", 10, _F.TYPE_UINT32, _OPTIONAL, 0, None),
    ("long_value", 11, _F.TYPE_UINT64, _OPTIONAL, 0, None),
    ("float_value", 12, _F.TYPE_FLOAT, _OPTIONAL, 0, None),
    ("double_value", 13, _F.TYPE_DOUBLE, _OPTIONAL, 0, None),
    ("boolean_value", 14, _F.TYPE_BOOL, _OPTIONAL, 0, None),
    ("string_value", 15, _F.TYPE_STRING, _OPTIONAL, 0, None),
    ("bytes_value", 16, _F.TYPE_BYTES, _OPTIONAL, 0, None),
]
_PAYLOAD_FIELDS = [
    ("timestamp", 1, _F.TYPE_UINT64, _OPTIONAL, None, None),
    ("metrics", 2, _F.TYPE_MESSAGE, _REPEATED, None, f".{PACKAGE}.Payload.Metric"),
    ("seq", 3, _F.TYPE_UINT64, _OPTIONAL, None, None),
    ("uuid", 4, _F.TYPE_STRING, _OPTIONAL, None, None),
    ("body", 5, _F.TYPE_BYTES, _OPTIONAL, None, None),
]


def _message(name: str, fields: list, *, oneofs: tuple[str, ...] = ()):
    message = descriptor_pb2.DescriptorProto(name=name)
    for oneof in oneofs:
        message.oneof_decl.add(name=oneof)
    for field_name, number, kind, label, oneof, type_name in fields:
        field = message.field.add(name=field_name, number=number, type=kind, label=label)
        if oneof is not None:
            field.oneof_index = oneof
        if type_name:
            field.type_name = type_name
    return message


def _build():
    file = descriptor_pb2.FileDescriptorProto(
        name="plantops/sparkplug_b.proto", package=PACKAGE, syntax="proto2"
    )
    payload = _message("Payload", _PAYLOAD_FIELDS)
    payload.nested_type.append(_message("Metric", _METRIC_FIELDS, oneofs=("value",)))
    payload.extension_range.add(start=6, end=536870912)
    file.message_type.append(payload)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.Payload"))


Payload = _build()
Metric = Payload.Metric

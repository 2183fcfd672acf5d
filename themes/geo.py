"""Coordinates for Chinese map services.

Venues store WGS-84 (what GPS and OpenStreetMap use). 高德地图 (AMap) reads GCJ-02, the
national obfuscated datum, and 百度地图 reads BD-09, Baidu's further offset of GCJ-02; given
WGS-84 as is, both put the marker 100–700 m away. The conversions below are the standard
published formulas (the Krasovsky 1940 ellipsoid parameters of GCJ-02, Baidu's published
GCJ-02 → BD-09 offset); outside mainland China GCJ-02 equals WGS-84.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

_A = 6378245.0  # semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02
_EE = 0.00669342162296594323  # its eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0


def out_of_china(lat: float, lng: float) -> bool:
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """(lat, lng) in WGS-84 → (lat, lng) in GCJ-02 (高德地图, 腾讯地图)."""
    lat, lng = float(lat), float(lng)
    if out_of_china(lat, lng):
        return lat, lng
    d_lat = _transform_lat(lng - 105.0, lat - 35.0)
    d_lng = _transform_lng(lng - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lng + d_lng


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    """(lat, lng) in GCJ-02 → (lat, lng) in BD-09 (百度地图)."""
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def wgs84_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))


def amap_url(lat, lng, name: str) -> str:
    """高德地图's marker URI (web and app), at the GCJ-02 position."""
    g_lat, g_lng = wgs84_to_gcj02(lat, lng)
    query = urlencode(
        {
            "position": f"{g_lng:.6f},{g_lat:.6f}",
            "name": name,
            "src": "culture-cloud",
            "coordinate": "gaode",
            "callnative": "1",
        }
    )
    return f"https://uri.amap.com/marker?{query}"


def baidu_url(lat, lng, name: str, address: str = "") -> str:
    """百度地图's marker URI (web and app), at the BD-09 position."""
    b_lat, b_lng = wgs84_to_bd09(lat, lng)
    query = urlencode(
        {
            "location": f"{b_lat:.6f},{b_lng:.6f}",
            "title": name,
            "content": address or name,
            "output": "html",
            "coord_type": "bd09ll",
            "src": "culture-cloud",
        }
    )
    return f"https://api.map.baidu.com/marker?{query}"

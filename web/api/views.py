"""Small JSON endpoints that pages use to enhance forms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from engagement.geo.communes import POSTAL_CODE
from engagement.geo.countries import country_of_postal_code
from engagement.geo.postal import communes_of
from web.extensions import JSON_API_LIMIT, limiter

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/cities")
@limiter.limit(JSON_API_LIMIT)
def cities() -> Any:
    """``{"postal_code": "94320", "cities": [{"code": "94073", "name": "Thiais"}]}``; a postal code of another
    country adds it (``"country": "MC"`` for Monaco's 980xx), for the page to offer that country."""
    postal_code = request.args.get("postal_code", "").strip()
    if not POSTAL_CODE.match(postal_code):
        return jsonify(error="postal_code must be five digits", postal_code=postal_code, cities=[]), 400
    found = [{"code": code, "name": name} for code, name in communes_of(postal_code)]
    elsewhere = country_of_postal_code(postal_code)
    response = jsonify(postal_code=postal_code, cities=found, **({"country": elsewhere} if elsewhere else {}))
    response.cache_control.public = True  # the same for everyone; changes with a data release
    response.cache_control.max_age = 86400
    return response

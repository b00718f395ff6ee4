"""Flask extensions, created unbound and initialised in `create_app`."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
#: The JSON endpoints pages call as a visitor types (search, cities): per client; generous, as a rally's
#: visitors may share one network.
JSON_API_LIMIT = "120 per minute; 2000 per hour"

"""Where a request came from, as the throttles, django-axes and the audit log all read it.

Here, at the bottom of the apps, so the audit log needs nothing above it; axes is pointed at
it by settings.AXES_CLIENT_IP_CALLABLE. DRF's throttles keep their own reader
(rest_framework.throttling.BaseThrottle.get_ident), which settings.py feeds the same
NUM_PROXIES as REST_FRAMEWORK["NUM_PROXIES"]; this function applies DRF's rule to the letter
(a test compares the two), so a client is counted, locked out and logged under one address.

Not django-ipware: its proxy count leaves out the proxy that is REMOTE_ADDR, it strips ports,
and it prefers public addresses and other headers (X-Real-IP, CF-Connecting-IP ...), so on
odd headers it would name a different address than the throttle does.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies.

    With no proxy trusted (NUM_PROXIES=0, the default) it is REMOTE_ADDR, whatever
    X-Forwarded-For says. With n proxies, each appending the address it saw, it is the n-th
    entry from the right (what the outermost one saw), or the left-most when there are fewer;
    entries further left were written by the client and could be anything.
    """
    num_proxies: int = settings.NUM_PROXIES
    remote: str | None = request.META.get("REMOTE_ADDR")
    forwarded: str | None = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies == 0 or forwarded is None:
        return remote
    hops = forwarded.split(",")
    return hops[-min(num_proxies, len(hops))].strip()

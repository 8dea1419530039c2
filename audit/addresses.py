"""Where a request came from, as the audit log and django-axes both read it.

Here, at the bottom of the apps, so the audit log needs nothing above it; axes is pointed at
it by settings.AXES_CLIENT_IP_CALLABLE, so lockouts and the log agree on the address.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies.

    With NUM_PROXIES trusted proxies, the address the outermost one saw is the
    NUM_PROXIES-th from the right; anything further left could be forged by the client.
    """
    num_proxies: int = settings.NUM_PROXIES
    if num_proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= num_proxies:
            return hops[-num_proxies]
    remote: str | None = request.META.get("REMOTE_ADDR")
    return remote

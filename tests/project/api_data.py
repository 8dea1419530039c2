"""A small world for requests to every API route: alice's case with photos that have real
files, a flagged analysis, an annotation, a signed-off review and a timeline; and a way to
fill a route's path with an object that exists (or one that does not)."""

from __future__ import annotations

from dataclasses import dataclass

from diagnosis import services
from diagnosis.models import BodySite, Duration
from patients.models import User
from patients.services import user_token_get
from tests.crafted_images import small_jpeg
from tests.diagnosis.conftest import store_photo
from tests.factories import AnnotationFactory, FlaggedAnalysisFactory, claim_and_sign_off

MISSING_ID = 987654
MISSING_CODE = "no-such-condition"


@dataclass(frozen=True)
class ApiWorld:
    case: int
    image: int
    analysis: int
    annotation: int
    disease: str = "mel"


def api_world(*, alice: User, dana: User) -> ApiWorld:
    case = services.case_create(patient=alice, body_site=BodySite.BACK, duration=Duration.YEARS)
    analysis = FlaggedAnalysisFactory.create(image__case=case)
    store_photo(analysis.image, small_jpeg())
    annotation = AnnotationFactory.create(image=analysis.image, author=dana)
    # A second photo dana has signed off: reviews, resolved flags and timeline events.
    # (another case: a sign-off resolves its whole case's flags).
    other = services.case_create(patient=alice, body_site=BodySite.FACE, duration=Duration.MONTHS)
    reviewed = FlaggedAnalysisFactory.create(image__case=other)
    store_photo(reviewed.image, small_jpeg())
    claim_and_sign_off(reviewed, dana)
    return ApiWorld(case=case.pk, image=analysis.image.pk, analysis=analysis.pk,
                    annotation=annotation.pk)


def token_header(user: User) -> str:
    return f"Token {user_token_get(user=user).key}"


# Which object a route's {id} names: the word before it.
_KINDS = {"cases": "case", "images": "image", "analyses": "analysis", "annotations": "annotation"}


def path_id(template: str, world: ApiWorld) -> int | None:
    for segment, kind in _KINDS.items():
        if f"/{segment}/{{id}}" in template:
            return int(getattr(world, kind))
    return None


def real_path(template: str, world: ApiWorld) -> str:
    pk = path_id(template, world)
    path = template.replace("{code}", world.disease).replace("{id}", str(pk))
    assert "{" not in path and "None" not in path, f"no object for {template}"
    return path


def missing_path(template: str) -> str:
    return template.replace("{id}", str(MISSING_ID)).replace("{code}", MISSING_CODE)

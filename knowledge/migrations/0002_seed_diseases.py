"""Seed the knowledge base: the 8 lesion types the classifier knows, plus `unknown`.

Written for patients from the cited DermNet, NHS, AAD and PCDS pages. The entries are left
with no `last_reviewed_at`: a clinician must review them in the admin before real use.
ICD-10 codes are ICD-10-CM. This migration is frozen content; later edits happen in the admin.
"""

from django.db import migrations

DERMNET = "DermNet"
NHS = "NHS"
AAD = "American Academy of Dermatology"
PCDS = "Primary Care Dermatology Society"

DISEASES = [
    {
        "code": "ak",
        "name": "Actinic keratosis",
        "also_known_as": "Solar keratosis, AK",
        "severity_group": "pre_malignant",
        "urgency": "routine",
        "icd10": "L57.0",
        "summary": (
            "A rough, scaly patch caused by many years of sun exposure, most often on the face, "
            "scalp, ears, backs of the hands and forearms. Actinic keratoses are common in "
            "fair-skinned people over 40. They are not cancer, but a small proportion can turn "
            "into squamous cell carcinoma, a type of skin cancer, so they are worth having "
            "checked and treated."
        ),
        "when_to_see_doctor": (
            "Make a routine appointment with your GP or a dermatologist if you have rough, "
            "scaly patches on sun-exposed skin.\n\n"
            "See a doctor within two weeks if a patch becomes thick or raised, tender or "
            "painful, grows quickly, bleeds, or turns into a sore that does not heal, because "
            "these can be signs that it has changed into a squamous cell carcinoma."
        ),
        "symptoms": [
            "A rough, dry or scaly patch that is often easier to feel than to see, like "
            "sandpaper.",
            "Usually a few millimetres to about 2 cm across; pink, red, skin-coloured or "
            "brown.",
            "On skin that has had a lot of sun: face, lips, ears, bald scalp, backs of the "
            "hands and forearms.",
            "Often several patches at once; they may itch, sting or feel tender, and can come "
            "and go.",
        ],
        "precautions": [
            "Protect your skin from the sun: seek shade in the middle of the day and wear a "
            "broad-brimmed hat and clothing that covers your arms.",
            "Use a broad-spectrum sunscreen of SPF 30 or higher on exposed skin every day, and "
            "reapply it when you are outdoors.",
            "Avoid sunburn and never use sunbeds.",
            "Check your skin regularly and show a doctor any patch that changes, bleeds or "
            "becomes painful.",
        ],
        "treatments": [
            "Freezing individual patches with liquid nitrogen (cryotherapy).",
            "A prescription cream or gel applied to an area for a few weeks (see the medicines "
            "below); the skin usually becomes red and sore for a while before it heals.",
            "Photodynamic therapy: a light-sensitising cream is applied and then activated "
            "with light.",
            "Scraping (curettage) or minor surgery for thick patches, or when skin cancer "
            "cannot be ruled out; the tissue is then examined under a microscope.",
            "Some mild patches improve on their own with careful sun protection, and a doctor "
            "may suggest simply watching them.",
        ],
        "medications": [
            "Fluorouracil (5-FU) cream, which destroys the abnormal skin cells.",
            "Imiquimod cream, which stimulates the skin's immune response.",
            "Diclofenac gel (a prescription-strength anti-inflammatory gel), for milder "
            "patches.",
            "Tirbanibulin ointment, a short course for patches on the face or scalp.",
        ],
        "sources": [
            (DERMNET, "Actinic keratosis", "https://dermnetnz.org/topics/actinic-keratosis"),
            (NHS, "Actinic keratoses (solar keratoses)",
             "https://www.nhs.uk/conditions/actinic-keratoses/"),
            (AAD, "Actinic keratosis: overview",
             "https://www.aad.org/public/diseases/skin-cancer/actinic-keratosis-overview"),
        ],
    },
    {
        "code": "bcc",
        "name": "Basal cell carcinoma",
        "also_known_as": "BCC, rodent ulcer, basal cell skin cancer",
        "severity_group": "malignant",
        "urgency": "soon",
        "icd10": "C44.91",
        "summary": (
            "The most common type of skin cancer. It grows slowly and very rarely spreads to "
            "other parts of the body, but if it is left untreated it keeps growing into the "
            "skin and the tissue underneath, so it should be treated. It is mostly caused by "
            "long-term sun exposure and is most common on the face, head and neck. Treatment "
            "cures most basal cell carcinomas."
        ),
        "when_to_see_doctor": (
            "See a GP or dermatologist within a few weeks about any spot or sore that has not "
            "healed within four weeks, keeps bleeding or crusting, or is growing.\n\n"
            "A basal cell carcinoma is rarely an emergency, but the earlier it is treated, the "
            "smaller the operation and the scar. Do not wait to see whether it goes away."
        ),
        "symptoms": [
            "A pearly or shiny, pink or skin-coloured lump, often with small visible blood "
            "vessels on its surface.",
            "A spot or sore that bleeds, crusts or scabs over, seems to heal and then comes "
            "back.",
            "A flat, red, scaly patch, most often on the chest or back.",
            "A firm, pale or waxy area that looks like a scar.",
            "On darker skin it may be brown or black.",
            "Usually painless; it grows slowly over months.",
        ],
        "precautions": [
            "Do not pick at the spot or try to remove it yourself.",
            "Protect your skin from the sun with shade, clothing, a hat and a broad-spectrum "
            "SPF 30+ sunscreen; never use sunbeds.",
            "After one basal cell carcinoma you are more likely to get another: check your "
            "skin every month and keep your follow-up appointments.",
        ],
        "treatments": [
            "Surgery to cut out the cancer with a margin of normal skin; this is the most "
            "common treatment and usually cures it.",
            "Mohs micrographic surgery, for some lesions on the face or ones that have come "
            "back: the cancer is removed layer by layer, sparing healthy skin.",
            "Scraping and cautery (curettage), freezing or photodynamic therapy, for small, "
            "superficial lesions.",
            "Radiotherapy, when surgery is not suitable.",
        ],
        "medications": [
            "Imiquimod or fluorouracil (5-FU) cream, for some superficial basal cell "
            "carcinomas.",
            "For rare advanced basal cell carcinomas, tablets called hedgehog pathway "
            "inhibitors (vismodegib, sonidegib), prescribed by a specialist team.",
        ],
        "sources": [
            (DERMNET, "Basal cell carcinoma", "https://dermnetnz.org/topics/basal-cell-carcinoma"),
            (NHS, "Non-melanoma skin cancer",
             "https://www.nhs.uk/conditions/non-melanoma-skin-cancer/"),
            (AAD, "Basal cell carcinoma: overview",
             "https://www.aad.org/public/diseases/skin-cancer/types/common/bcc"),
        ],
    },
    {
        "code": "bkl",
        "name": "Benign keratosis",
        "also_known_as": (
            "Seborrhoeic keratosis (seborrhoeic wart, basal cell papilloma), solar lentigo "
            "(age spot, liver spot), lichen planus-like keratosis"
        ),
        "severity_group": "benign",
        "urgency": "routine",
        "icd10": "L82.1",
        "summary": (
            "A group of common, harmless skin growths that appear with age. The most common "
            "is the seborrhoeic keratosis: a brown or black, warty spot that looks 'stuck on' "
            "to the skin. Solar lentigines (age spots) are flat brown patches on sun-exposed "
            "skin, and a lichen planus-like keratosis is an inflamed, fading form of one of "
            "these. They are not cancer, do not turn into cancer, and need no treatment "
            "unless they bother you."
        ),
        "when_to_see_doctor": (
            "No treatment is needed once a doctor has told you that a spot is a seborrhoeic "
            "keratosis or an age spot. Make a routine appointment if you are not sure what a "
            "spot is, or if it is irritated, itchy or catching on clothing.\n\n"
            "See a doctor within two weeks if a spot changes quickly in size, shape or colour, "
            "bleeds without being injured, or looks different from your other spots, because "
            "some skin cancers, including melanoma, can look similar."
        ),
        "symptoms": [
            "A raised, rough, waxy or warty spot that looks 'stuck on', from light tan to dark "
            "brown or black.",
            "Often several, on the chest, back, face or scalp; more common after the age of "
            "40.",
            "Age spots are flat, evenly brown patches with a clear edge, on the face and backs "
            "of the hands.",
            "May itch, or become red and sore when rubbed or caught on clothing.",
        ],
        "precautions": [
            "Do not scratch, pick or try to remove the spots yourself; this can cause bleeding "
            "and infection.",
            "Sun protection helps to prevent new age spots.",
            "Keep an eye on your spots: a new spot that looks different from the rest should "
            "be checked.",
        ],
        "treatments": [
            "Usually none: these growths are harmless.",
            "A spot that is irritated or unsightly can be frozen (cryotherapy), scraped off "
            "(curettage) or treated with a laser; removal for cosmetic reasons is often not "
            "offered in public healthcare.",
            "If there is any doubt about what the spot is, it can be removed or sampled and "
            "examined under a microscope.",
        ],
        "medications": [],
        "sources": [
            (DERMNET, "Seborrhoeic keratosis", "https://dermnetnz.org/topics/seborrhoeic-keratosis"),
            (DERMNET, "Solar lentigo", "https://dermnetnz.org/topics/solar-lentigo"),
            (NHS, "Seborrhoeic keratosis", "https://www.nhs.uk/conditions/seborrhoeic-keratosis/"),
            (AAD, "Seborrheic keratoses: overview",
             "https://www.aad.org/public/diseases/a-z/seborrheic-keratoses-overview"),
        ],
    },
    {
        "code": "df",
        "name": "Dermatofibroma",
        "also_known_as": "Fibrous histiocytoma",
        "severity_group": "benign",
        "urgency": "routine",
        "icd10": "D23.9",
        "summary": (
            "A common, harmless, firm bump in the skin, most often on the legs. It is thought "
            "to be a reaction to a minor injury such as an insect bite or a thorn prick, and "
            "is more common in women and young adults. A dermatofibroma is not cancer and "
            "usually stays the same for years."
        ),
        "when_to_see_doctor": (
            "No treatment is needed once a doctor has confirmed what it is. Make a routine "
            "appointment if you are not sure what the bump is.\n\n"
            "See a doctor within two weeks if it grows quickly, changes colour, bleeds "
            "without being injured or becomes painful, because a few rarer lumps can look "
            "similar."
        ),
        "symptoms": [
            "A small (usually under 1 cm), firm, raised bump that feels like a lentil or a "
            "button in the skin.",
            "Pink, red, brown or purple, often darker around the edge.",
            "It dimples inwards when you pinch the skin on either side of it.",
            "Usually painless, but it can itch or be tender, and may bleed if nicked while "
            "shaving.",
        ],
        "precautions": [
            "Take care when shaving over it.",
            "Do not try to cut, burn or freeze it off yourself.",
            "Note its size and colour (a photo helps) so that you can tell if it changes.",
        ],
        "treatments": [
            "Usually none.",
            "It can be removed surgically if it is troublesome or the diagnosis is uncertain, "
            "but this leaves a scar that may look worse than the bump, and it can come back.",
        ],
        "medications": [],
        "sources": [
            (DERMNET, "Dermatofibroma", "https://dermnetnz.org/topics/dermatofibroma"),
            (PCDS, "Dermatofibroma", "https://www.pcds.org.uk/clinical-guidance/dermatofibroma"),
        ],
    },
    {
        "code": "mel",
        "name": "Melanoma",
        "also_known_as": "Malignant melanoma, melanoma skin cancer",
        "severity_group": "malignant",
        "urgency": "urgent",
        "icd10": "C43.9",
        "summary": (
            "A serious type of skin cancer that starts in the pigment-producing cells of the "
            "skin. It can spread to other parts of the body, so it must be found and treated "
            "early: most melanomas removed at an early stage are cured. Melanoma can appear "
            "as a new spot or as a change in an existing mole, anywhere on the body, "
            "including skin that is rarely exposed to the sun."
        ),
        "when_to_see_doctor": (
            "See a doctor as soon as possible, and within two weeks, if you have a new or "
            "changing mole or dark spot: one that is growing, changing shape or colour, has "
            "an irregular edge or several colours, itches, bleeds or crusts, or looks "
            "different from your other moles.\n\n"
            "Do not wait for a routine appointment, and do not wait to see whether it goes "
            "away."
        ),
        "symptoms": [
            "Asymmetry: the two halves of the spot look different.",
            "Border: an irregular, ragged, notched or blurred edge.",
            "Colour: uneven colour, or several colours such as brown, black, grey, red, white "
            "or blue.",
            "Diameter: often larger than 6 mm, although early melanomas can be smaller.",
            "Evolving: a change in size, shape, colour or height, or new itching, bleeding or "
            "crusting.",
            "Some melanomas are pink or red rather than dark, and some appear as a dark streak "
            "under a nail or on the palms or soles.",
        ],
        "precautions": [
            "Do not wait: have a new or changing spot checked by a doctor promptly.",
            "Do not try to remove, shave or treat the spot yourself.",
            "Protect your skin from the sun, avoid sunburn (especially in children) and never "
            "use sunbeds.",
            "Check all of your skin once a month, with a mirror or someone's help for your "
            "back and scalp, and photograph moles so you can compare them.",
        ],
        "treatments": [
            "Removal of the whole spot with a narrow margin (excision biopsy), so that it can "
            "be examined under a microscope.",
            "If it is melanoma, a second operation (wide local excision) removes a wider "
            "margin of normal skin to lower the chance of it coming back.",
            "Depending on how deep it is, a sentinel lymph node biopsy and scans may be "
            "offered to check whether it has spread.",
            "Advanced melanoma is treated by a specialist team with medicines (below), and "
            "sometimes with radiotherapy or further surgery.",
            "Regular skin checks after treatment.",
        ],
        "medications": [
            "Immunotherapy (checkpoint inhibitors such as pembrolizumab, nivolumab and "
            "ipilimumab), which helps the immune system attack the cancer; used for "
            "higher-risk or advanced melanoma.",
            "Targeted therapy tablets (BRAF and MEK inhibitors, such as dabrafenib with "
            "trametinib) for melanomas that carry a BRAF gene change.",
        ],
        "sources": [
            (DERMNET, "Melanoma", "https://dermnetnz.org/topics/melanoma"),
            (NHS, "Melanoma skin cancer", "https://www.nhs.uk/conditions/melanoma-skin-cancer/"),
            (AAD, "Melanoma: overview",
             "https://www.aad.org/public/diseases/skin-cancer/types/common/melanoma"),
            (AAD, "What to look for: ABCDEs of melanoma",
             "https://www.aad.org/public/diseases/skin-cancer/find/at-risk/abcdes"),
        ],
    },
    {
        "code": "nv",
        "name": "Melanocytic naevus (mole)",
        "also_known_as": "Mole, nevus, melanocytic nevus",
        "severity_group": "benign",
        "urgency": "routine",
        "icd10": "D22.9",
        "summary": (
            "A mole: a common, harmless cluster of pigment cells. Most adults have between 10 "
            "and 40 moles. They usually appear in childhood and early adulthood, and may "
            "slowly change or fade over many years. Having many moles (more than 50), or "
            "large or unusual-looking ones, raises the chance of melanoma, so it is worth "
            "knowing your moles and watching for change."
        ),
        "when_to_see_doctor": (
            "An ordinary mole needs no treatment. Make a routine appointment if a mole catches "
            "on clothing or bothers you.\n\n"
            "See a doctor within two weeks if a mole changes in size, shape or colour, "
            "develops an irregular edge or several colours, bleeds, itches or crusts, or if a "
            "new mole appears in adulthood and looks different from your others: these can "
            "be signs of melanoma."
        ),
        "symptoms": [
            "A round or oval, evenly coloured spot, usually smaller than 6 mm, with a smooth, "
            "clear edge.",
            "Flat or raised; tan, brown, dark brown or skin-coloured; the surface may be "
            "smooth, wrinkled or hairy.",
            "A person's moles tend to look like one another; one that looks different is "
            "worth checking.",
            "Painless, and much the same from month to month.",
        ],
        "precautions": [
            "Protect your skin from the sun and never use sunbeds; this helps prevent new "
            "moles and melanoma.",
            "Check your moles every month for the ABCDE warning signs and photograph any you "
            "want to keep an eye on.",
            "Do not try to remove a mole yourself (with creams, freezing kits or cutting): "
            "this can cause scarring and infection and can hide a melanoma.",
        ],
        "treatments": [
            "None is needed for a normal mole.",
            "A doctor can remove a mole (by cutting or shaving it off) if it looks unusual, "
            "so that it can be examined under a microscope, or if it is troublesome; removal "
            "for cosmetic reasons is often not offered in public healthcare.",
        ],
        "medications": [],
        "sources": [
            (DERMNET, "Melanocytic naevus", "https://dermnetnz.org/topics/melanocytic-naevus"),
            (NHS, "Moles", "https://www.nhs.uk/conditions/moles/"),
            (AAD, "Moles: overview", "https://www.aad.org/public/diseases/a-z/moles-overview"),
        ],
    },
    {
        "code": "scc",
        "name": "Squamous cell carcinoma",
        "also_known_as": (
            "Cutaneous squamous cell carcinoma, SCC; includes Bowen's disease (squamous cell "
            "carcinoma in situ, intraepidermal carcinoma)"
        ),
        "severity_group": "malignant",
        "urgency": "urgent",
        "icd10": "C44.92",
        "summary": (
            "The second most common type of skin cancer. It usually appears on skin that has "
            "had a lot of sun, such as the face, ears, scalp, lips and backs of the hands, and "
            "is more common in older people and in people whose immune system is weakened. It "
            "can grow quickly and, unlike basal cell carcinoma, sometimes spreads to other "
            "parts of the body, so it should be assessed and treated promptly. Bowen's disease "
            "is an early form that stays in the top layer of the skin. Treatment cures most "
            "squamous cell carcinomas."
        ),
        "when_to_see_doctor": (
            "See a doctor within two weeks if you have a growing lump, a scaly or crusted "
            "patch that is getting thicker, or a sore that has not healed within four weeks, "
            "especially on sun-exposed skin, the lip or the ear.\n\n"
            "This is even more important if you take medicines that suppress the immune "
            "system, for example after an organ transplant."
        ),
        "symptoms": [
            "A firm, pink or red lump, often with a scaly, crusted or horn-like surface, that "
            "grows over weeks to months.",
            "A sore or ulcer that does not heal, bleeds easily or keeps coming back.",
            "It may be tender or painful to touch.",
            "Bowen's disease: a slowly growing, flat, red, scaly patch with a clear edge, "
            "often on the lower legs.",
        ],
        "precautions": [
            "Have it checked promptly; do not wait to see whether it heals.",
            "Do not pick at it or treat it with creams bought without advice.",
            "Protect your skin from the sun (shade, clothing, a hat and a broad-spectrum SPF "
            "30+ sunscreen) and never use sunbeds.",
            "After treatment, check your skin and the glands near the scar (neck, armpits or "
            "groin) regularly, and keep your follow-up appointments.",
        ],
        "treatments": [
            "Surgery to remove the cancer with a margin of normal skin is the main treatment; "
            "the tissue is examined under a microscope to make sure all of it was removed.",
            "Mohs micrographic surgery for some high-risk or facial lesions.",
            "Radiotherapy when surgery is not suitable, or after surgery for high-risk "
            "tumours.",
            "Bowen's disease can also be treated with freezing, curettage, photodynamic "
            "therapy or creams.",
        ],
        "medications": [
            "Fluorouracil (5-FU) or imiquimod cream, for Bowen's disease (not for invasive "
            "squamous cell carcinoma).",
            "Immunotherapy (such as cemiplimab), given by a specialist team for advanced "
            "squamous cell carcinoma that cannot be removed by surgery.",
        ],
        "sources": [
            (DERMNET, "Cutaneous squamous cell carcinoma",
             "https://dermnetnz.org/topics/cutaneous-squamous-cell-carcinoma"),
            (DERMNET, "Intraepidermal squamous cell carcinoma (Bowen disease)",
             "https://dermnetnz.org/topics/intraepidermal-squamous-cell-carcinoma"),
            (NHS, "Non-melanoma skin cancer",
             "https://www.nhs.uk/conditions/non-melanoma-skin-cancer/"),
            (AAD, "Squamous cell carcinoma: overview",
             "https://www.aad.org/public/diseases/skin-cancer/types/common/scc"),
        ],
    },
    {
        "code": "vasc",
        "name": "Vascular lesion",
        "also_known_as": (
            "Cherry angioma (Campbell de Morgan spot), angiokeratoma, pyogenic granuloma, "
            "haemangioma"
        ),
        "severity_group": "benign",
        "urgency": "routine",
        # D18.01: haemangioma of skin and subcutaneous tissue (D18.00 is "unspecified site").
        "icd10": "D18.01",
        "summary": (
            "A spot made of small blood vessels in the skin. The most common are cherry "
            "angiomas: small, bright red, dome-shaped spots that appear from middle age and "
            "are harmless. Angiokeratomas are dark red to purple-black spots with a rough "
            "surface. A pyogenic granuloma is a fast-growing red lump that bleeds easily; it "
            "is not cancer either, but it is usually removed."
        ),
        "when_to_see_doctor": (
            "Cherry angiomas need no treatment. Make a routine appointment if a spot bleeds "
            "repeatedly or you are not sure what it is.\n\n"
            "See a doctor within two weeks about a lump that grows quickly and bleeds easily: "
            "it is usually removed and examined, because other growths, including a rare "
            "melanoma without dark pigment, can look similar.\n\n"
            "Get urgent medical help if you suddenly develop many tiny red or purple spots or "
            "bruises that do not fade when you press a glass against them, especially if you "
            "feel unwell."
        ),
        "symptoms": [
            "Cherry angioma: a smooth, bright red to purple, dome-shaped spot, from pinpoint "
            "size to a few millimetres, usually on the trunk; many people have several.",
            "Angiokeratoma: a dark red, purple or black spot with a rough or warty surface.",
            "Pyogenic granuloma: a shiny, red, moist lump that grows over days to weeks and "
            "bleeds after minor knocks.",
            "Usually painless, but they can bleed if scratched or knocked.",
        ],
        "precautions": [
            "If a spot bleeds, press firmly on it with a clean cloth for 10 minutes.",
            "Avoid picking it or catching it when shaving.",
            "Watch for change: a dark spot that grows or changes should be checked.",
        ],
        "treatments": [
            "Usually none.",
            "Spots that bleed or bother you can be removed by laser, electrocautery, freezing "
            "or minor surgery.",
            "A pyogenic granuloma is usually scraped off and cauterised, or cut out, and "
            "examined under a microscope.",
        ],
        "medications": [],
        "sources": [
            (DERMNET, "Cherry angioma", "https://dermnetnz.org/topics/cherry-angioma"),
            (DERMNET, "Angiokeratoma", "https://dermnetnz.org/topics/angiokeratoma"),
            (DERMNET, "Pyogenic granuloma", "https://dermnetnz.org/topics/pyogenic-granuloma"),
            (NHS, "Meningitis: symptoms and the glass test",
             "https://www.nhs.uk/conditions/meningitis/"),
        ],
    },
    {
        "code": "unknown",
        "name": "Not one of the known types",
        "also_known_as": "Unrecognised skin condition",
        "severity_group": "unknown",
        "urgency": "soon",
        "icd10": "",
        "summary": (
            "Our photo assessment recognises only eight types of skin lesion. This result "
            "means that the photo does not clearly match any of them, or shows something else "
            "such as a rash, eczema, psoriasis, acne, an infection or a bruise. It is not a "
            "diagnosis, and it says nothing about whether the spot is harmless or not."
        ),
        "when_to_see_doctor": (
            "Because we cannot tell what this is, have it looked at by a doctor or pharmacist "
            "within a few weeks. See a doctor within two weeks if the spot is new, growing, "
            "changing, bleeding, or has not healed within four weeks.\n\n"
            "Get urgent medical help if you have a rash that spreads quickly with a fever or "
            "you feel very unwell, painful blistering or peeling of large areas of skin, "
            "swelling of the face, lips or tongue, or spots that do not fade when you press a "
            "glass against them."
        ),
        "symptoms": [
            "A rash or a wide area of inflamed skin rather than a single spot.",
            "A photo that is blurred, too dark or too far away, or that shows something other "
            "than skin.",
            "A less common type of skin lesion that the assessment was not built to recognise.",
        ],
        "precautions": [
            "If the photo may have been the problem, retake it in good daylight, in focus, "
            "with the spot filling most of the picture.",
            "Do not assume that a spot is harmless because it could not be recognised.",
            "Note when it started and how it has changed, and photograph it over time to show "
            "a doctor.",
        ],
        "treatments": [
            "This depends entirely on what it turns out to be. A doctor can examine it and, "
            "if needed, take a small sample (biopsy) to find out.",
        ],
        "medications": [],
        "sources": [
            (AAD, "How to perform a skin self-exam",
             "https://www.aad.org/public/diseases/skin-cancer/find/check-skin"),
            (NHS, "Non-melanoma skin cancer",
             "https://www.nhs.uk/conditions/non-melanoma-skin-cancer/"),
            (NHS, "Melanoma skin cancer", "https://www.nhs.uk/conditions/melanoma-skin-cancer/"),
            (NHS, "Meningitis: symptoms and the glass test",
             "https://www.nhs.uk/conditions/meningitis/"),
        ],
    },
]

ITEM_KINDS = {
    "symptoms": "symptom",
    "precautions": "precaution",
    "treatments": "treatment",
    "medications": "medication",
}
DISEASE_FIELDS = (
    "name",
    "also_known_as",
    "severity_group",
    "urgency",
    "icd10",
    "summary",
    "when_to_see_doctor",
)


def seed(apps, schema_editor):
    Disease = apps.get_model("knowledge", "Disease")
    DiseaseItem = apps.get_model("knowledge", "DiseaseItem")
    DiseaseSource = apps.get_model("knowledge", "DiseaseSource")
    for entry in DISEASES:
        disease, created = Disease.objects.get_or_create(
            code=entry["code"], defaults={field: entry[field] for field in DISEASE_FIELDS}
        )
        if not created:
            continue  # an administrator already wrote this entry; keep their version
        items = [
            DiseaseItem(disease=disease, kind=kind, text=text, order=order)
            for key, kind in ITEM_KINDS.items()
            for order, text in enumerate(entry[key], start=1)
        ]
        DiseaseItem.objects.bulk_create(items)
        DiseaseSource.objects.bulk_create(
            DiseaseSource(disease=disease, publisher=publisher, title=title, url=url, order=order)
            for order, (publisher, title, url) in enumerate(entry["sources"], start=1)
        )


def unseed(apps, schema_editor):
    Disease = apps.get_model("knowledge", "Disease")
    Disease.objects.filter(code__in=[entry["code"] for entry in DISEASES]).delete()


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]

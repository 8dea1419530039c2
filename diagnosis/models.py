# Cases, lesion images, analyses and reviews arrive with the diagnosis workflow (issue #4).

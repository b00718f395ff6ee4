from django.urls import path

from peer.views import BenchWizard

wizard = BenchWizard.as_view(url_name="bench_step", done_step_name="done")

urlpatterns = [
    path("wizard/<str:step>/", wizard, name="bench_step"),
    path("wizard/", wizard, name="bench"),
]

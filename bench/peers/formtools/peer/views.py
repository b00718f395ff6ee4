"""The wizard: one URL per step (``/wizard/<step>/``), its data in the session between steps."""

from django.http import HttpResponse
from formtools.wizard.views import NamedUrlSessionWizardView

from peer.forms import Details, Entry, Extra


class BenchWizard(NamedUrlSessionWizardView):
    """A valid POST of a step stores its data in the session and redirects (302) to the next step."""

    form_list = [("entry", Entry), ("details", Details), ("extra", Extra)]
    template_name = "peer/step.html"

    def done(self, form_list, **kwargs):
        return HttpResponse("Merci !")

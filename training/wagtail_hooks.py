"""在线培训 in the Wagtail admin menu, for people who may manage training on this site."""

from wagtail import hooks
from wagtail.admin.menu import MenuItem


class TrainingMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("training.manage_training")


@hooks.register("register_admin_menu_item")
def register_training_menu_item():
    return TrainingMenuItem("在线培训", "/training/manage/", icon_name="doc-full", order=900)

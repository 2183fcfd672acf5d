from django import forms

from .models import CultureSite


class NewSiteForm(forms.Form):
    slug = forms.CharField(label="站点标识（子域名）", max_length=30, help_text="小写字母和数字，例如 hangzhou")
    name = forms.CharField(label="站点名称", max_length=100)
    kind = forms.ChoiceField(label="级别", choices=[(k.value, k.label) for k in CultureSite.SERVED_KINDS])
    region_code = forms.CharField(label="行政区划代码", max_length=6, help_text="GB/T 2260，例如 330100")
    parent = forms.CharField(label="上级站点标识", max_length=30, required=False)
    extra_domains = forms.CharField(label="其他域名（可选，逗号分隔）", required=False)

"""Model texts of a site's 隐私政策 and 用户协议 (sections of (heading, paragraphs)).

The platform's default pages and the demo world's per-site policy pages are made from them; a
site's editors rewrite their own in Wagtail. Written against the PIPL (个人信息保护法), the
Cybersecurity Law and the national guidance for public culture services.
"""

from __future__ import annotations


def privacy_sections(site_name: str, contact: str) -> list[tuple[str, list[str]]]:
    return [
        (
            "一、我们收集哪些个人信息",
            [
                f"{site_name}（以下简称“本平台”）仅收集提供公共文化服务所必需的个人信息：注册时的手机号或邮箱、"
                "您设置的昵称和密码；预约活动、报名志愿服务和在线培训时需要的姓名、身份证号（实名信息）；"
                "以及您使用服务时产生的预约、签到、学习和志愿服务记录。",
                "我们不会收集与服务无关的个人信息，也不会通过第三方统计或广告工具追踪您的浏览行为。",
            ],
        ),
        (
            "二、我们如何使用个人信息",
            [
                "手机号和邮箱用于登录、找回密码和发送预约、审核等服务通知；实名信息用于活动入场核验、"
                "志愿服务时长认证和培训证书发放。",
                "我们不会将您的个人信息用于商业营销，不会向任何第三方出售或提供，法律法规另有规定的除外。",
            ],
        ),
        (
            "三、我们如何保存和保护个人信息",
            [
                "身份证号、姓名和手机号在数据库中加密保存，页面、后台列表和导出文件中仅显示部分号码。",
                "个人信息存储在中华人民共和国境内；账号停用后，我们按法律法规规定的期限保存必要记录，期满后删除或匿名化处理。",
            ],
        ),
        (
            "四、您的权利",
            [
                "您可以在“个人中心”查阅、更正您的个人信息，更换手机号和邮箱；如需复制、删除个人信息或注销账号，"
                f"请通过 {contact} 联系我们，我们将在十五个工作日内答复。",
                "您可以随时撤回同意；撤回后我们将停止提供需要该信息的服务，但不影响撤回前基于您的同意已进行的处理。",
            ],
        ),
        (
            "五、未成年人保护",
            ["不满十四周岁的未成年人注册和使用本平台，应当取得父母或其他监护人的同意。"],
        ),
        (
            "六、政策的更新",
            ["本政策更新时，我们将在本页面公布新版本，并在您下次登录时提示；重大变更将再次征得您的同意。"],
        ),
    ]


def agreement_sections(site_name: str, contact: str) -> list[tuple[str, list[str]]]:
    return [
        (
            "一、服务内容",
            [
                f"{site_name}是公益性公共数字文化服务平台，免费提供活动预约、场馆预定、数字资源、在线培训、"
                "志愿服务和直播等服务。一个文化云账号可登录全国各地的文化云站点。",
            ],
        ),
        (
            "二、账号注册与使用",
            [
                "您应当使用本人的手机号或邮箱注册，并妥善保管密码；以您的账号进行的操作视为您本人的行为。",
                "预约活动、报名志愿服务等需要实名信息的服务，请如实填写本人的姓名和身份证号。",
            ],
        ),
        (
            "三、文明使用",
            [
                "请遵守国家法律法规和社会公德，不得发布违法、有害、侵权或与公共文化无关的商业信息，不得以技术手段刷票、"
                "恶意占用预约名额。违反者，本平台可取消相关资格并限制账号使用。",
                "预约后不能到场，请提前取消，把名额留给其他群众；多次未到场的，可能暂停预约资格。",
            ],
        ),
        (
            "四、知识产权",
            [
                "平台上的数字资源仅供个人学习、欣赏等非商业性公益使用，版权归原权利人所有，未经许可不得转载或用于商业目的。",
            ],
        ),
        (
            "五、协议的变更与联系方式",
            [
                "本协议更新时，我们将在本页面公布新版本；重大变更将再次征得您的同意。",
                f"如有疑问或投诉，请通过 {contact} 联系我们。",
            ],
        ),
    ]


def sections(kind: str, site_name: str, contact: str) -> list[tuple[str, list[str]]]:
    return (privacy_sections if kind == "privacy" else agreement_sections)(site_name, contact)

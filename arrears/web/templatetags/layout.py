"""`{% layout %}…{% body %}…{% endlayout %}`: a Django template page in the layout every page
shares, the Jinja2 template web/layout.html (see arrears/web/jinja.py), so that the layout is
written once for both languages. The part before `{% body %}` is the page's title; blocks in
either part are overridden by the templates that extend the one using the tag, as usual."""

from __future__ import annotations

from django import template
from django.template.base import NodeList, Parser, Token
from django.template.context import Context

register = template.Library()


class LayoutNode(template.Node):
    child_nodelists = ("title", "body")  # so that {% extends %} finds the blocks inside

    def __init__(self, title: NodeList, body: NodeList):
        self.title, self.body = title, body

    def render(self, context: Context) -> str:
        from arrears.web.jinja import layout

        request = getattr(context, "request", None)
        if request is None:
            raise template.TemplateSyntaxError("{% layout %} needs a request: render(request, ...)")
        token = context.get("csrf_token")  # the page's own (see web.pagecache)
        return layout(
            request,
            title=self.title.render(context).strip(),
            content=self.body.render(context),
            token=None if token is None else str(token),
        )


@register.tag("layout")
def do_layout(parser: Parser, token: Token) -> LayoutNode:
    title = parser.parse(("body",))
    parser.delete_first_token()
    body = parser.parse(("endlayout",))
    parser.delete_first_token()
    return LayoutNode(title, body)

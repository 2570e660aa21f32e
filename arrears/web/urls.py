from django.urls import path

from arrears.web import (
    views,
    views_actions,
    views_admin,
    views_assign,
    views_cases,
    views_letters,
    views_periods,
    views_record,
    views_refunds,
    views_worklist,
)

app_name = "web"
urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("portfolio/chart/", views.portfolio_chart, name="portfolio_chart"),
    path("today/", views.today_page, name="today"),
    path("today/snooze/", views_worklist.worklist_snooze, name="worklist_snooze"),
    path("today/dismiss/", views_worklist.worklist_dismiss, name="worklist_dismiss"),
    path("search/", views.search, name="search"),
    path("search/suggest/", views.search_suggest, name="search_suggest"),
    path("signin/", views.signin, name="signin"),
    path("signout/", views.signout, name="signout"),
    path("accounts/<str:account_id>/", views.account_page, name="ledger"),
    path("accounts/<str:account_id>/notes/", views.account_note, name="account_note"),
    path("accounts/<str:account_id>/holds/", views.account_hold, name="account_hold"),
    path(
        "accounts/<str:account_id>/holds/<int:hold_id>/release/",
        views.account_release,
        name="account_release",
    ),
    path("accounts/<str:account_id>/calls/", views_actions.account_call, name="account_call"),
    path("accounts/<str:account_id>/referrals/", views_actions.account_refer, name="account_refer"),
    path(
        "accounts/<str:account_id>/referrals/checklist/",
        views_actions.account_refer_checklist,
        name="account_refer_checklist",
    ),
    path(
        "accounts/<str:account_id>/moveout/", views_actions.account_moveout, name="account_moveout"
    ),
    path(
        "accounts/<str:account_id>/deposit/",
        views_actions.account_deposit_dispose,
        name="account_deposit_dispose",
    ),
    path(
        "accounts/<str:account_id>/deposit/statement/",
        views_actions.account_deposit_statement,
        name="account_deposit_statement",
    ),
    path(
        "accounts/<str:account_id>/deposit/statement.pdf",
        views_actions.account_deposit_statement_preview,
        name="account_deposit_statement_preview",
    ),
    path(
        "accounts/<str:account_id>/promises/", views_actions.account_promise, name="account_promise"
    ),
    path("accounts/<str:account_id>/plans/", views_actions.account_plan, name="account_plan"),
    path(
        "accounts/<str:account_id>/plans/propose/",
        views_actions.account_plan_propose,
        name="account_plan_propose",
    ),
    path(
        "accounts/<str:account_id>/plans/<int:plan_id>/cancel/",
        views_actions.account_plan_cancel,
        name="account_plan_cancel",
    ),
    path(
        "accounts/<str:account_id>/disputes/", views_actions.account_dispute, name="account_dispute"
    ),
    path(
        "accounts/<str:account_id>/disputes/<int:dispute_id>/resolve/",
        views_actions.account_dispute_resolve,
        name="account_dispute_resolve",
    ),
    path(
        "accounts/<str:account_id>/statement/",
        views_actions.account_statement,
        name="account_statement",
    ),
    path(
        "accounts/<str:account_id>/notices/preview/",
        views_actions.account_notice_preview,
        name="account_notice_preview",
    ),
    path(
        "accounts/<str:account_id>/notices/",
        views_actions.account_notice_send,
        name="account_notice_send",
    ),
    path(
        "accounts/<str:account_id>/commitments/",
        views_actions.account_commitments,
        name="account_commitments",
    ),
    path(
        "accounts/<str:account_id>/documents/",
        views_actions.account_document,
        name="account_document",
    ),
    path(
        "accounts/<str:account_id>/parties/<str:party_id>/",
        views_record.account_party,
        name="account_party",
    ),
    path(
        "accounts/<str:account_id>/parties/<str:party_id>/consent/",
        views_record.account_consent,
        name="account_consent",
    ),
    path(
        "accounts/<str:account_id>/documents/add/",
        views_record.account_document_add,
        name="account_document_add",
    ),
    path("letters/", views_letters.letters_page, name="letters"),
    path("letters/batch/", views_letters.letters_batch_run, name="letters_batch"),
    path("letters/files/<int:document_id>/", views_letters.letters_file, name="letters_file"),
    path("letters/mailed/", views_letters.letters_mailed_entry, name="letters_mailed"),
    path("letters/returned/", views_letters.letters_returned_entry, name="letters_returned"),
    path("mail/triage/", views_letters.mail_triage, name="mail_triage"),
    path("mail/triage/<int:inbound_id>/assign/", views_letters.mail_assign, name="mail_assign"),
    path("periods/", views_periods.periods_page, name="periods"),
    path("refunds/", views_refunds.refunds_page, name="refunds"),
    path("refunds/export/", views_refunds.refunds_export, name="refunds_export"),
    path("refunds/batches/<str:batch>/", views_refunds.refund_batch_file, name="refund_batch"),
    path("refunds/<str:refund_id>/approve/", views_refunds.refund_approve, name="refund_approve"),
    path("refunds/<str:refund_id>/reject/", views_refunds.refund_reject, name="refund_reject"),
    path("cases/", views_cases.cases_page, name="cases"),
    path("cases/calendar.ics", views_cases.cases_calendar, name="cases_calendar"),
    path("cases/<int:case_id>/", views_cases.case_page, name="case"),
    path("cases/<int:case_id>/update/", views_cases.case_update, name="case_update"),
    path("admin/", views_admin.admin_home, name="admin"),
    path("admin/users/", views_admin.admin_users, name="admin_users"),
    path("admin/users/<int:user_id>/", views_admin.admin_user, name="admin_user"),
    path(
        "admin/users/<int:user_id>/active/",
        views_admin.admin_user_active,
        name="admin_user_active",
    ),
    path("admin/users/<int:user_id>/token/", views_admin.admin_user_token, name="admin_user_token"),
    path(
        "admin/users/<int:user_id>/password/",
        views_admin.admin_user_password,
        name="admin_user_password",
    ),
    path(
        "admin/users/<int:user_id>/tokens/<int:token_id>/revoke/",
        views_admin.admin_user_token_revoke,
        name="admin_user_token_revoke",
    ),
    path("admin/properties/", views_admin.admin_properties, name="admin_properties"),
    path("admin/properties/<str:property_id>/", views_admin.admin_property, name="admin_property"),
    path("admin/policies/", views_admin.admin_policies, name="admin_policies"),
    path("admin/policies/<str:policy>/", views_admin.admin_policy, name="admin_policy"),
    path("admin/policy-overrides/", views_admin.admin_policy_assign, name="admin_policy_assign"),
    path("admin/audit/", views_admin.admin_audit, name="admin_audit"),
    path("admin/templates/", views_admin.admin_templates, name="admin_templates"),
    path(
        "admin/templates/<str:template>/<str:language>/",
        views_admin.admin_template,
        name="admin_template",
    ),
    path("assignments/", views_assign.assignments_page, name="assignments"),
    path(
        "assignments/remove/",
        views_assign.assignment_remove,
        name="assignment_remove",
    ),
    path("assignments/coverage/", views_assign.coverage_add, name="coverage_add"),
    path(
        "assignments/coverage/<int:coverage_id>/end/",
        views_assign.coverage_end,
        name="coverage_end",
    ),
]

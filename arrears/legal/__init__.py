"""Referrals to attorneys and agencies (issue 17 adds case packets and case tracking)."""

"""Audit trail: who did what to which record, when and from where, never the content.

Events form a hash chain so that an altered or deleted row is found by ``flask audit verify``.
"""

"""The data every wing shares: parsed mail and translations (`parsed`, plain frozen
dataclasses, no pydantic) and the persisted records (`records`: cases, diary, outgoing mail).

May import: nothing of mailproc.
"""

"""Name resolution, type and ability checking, and lowering to the IR."""

from move.check.package import check_package

__all__ = ["check_package"]

from litrain.models.factory import build_model, resolve_name

__all__ = ["build_model", "resolve_name"]

"""Model backends behind one small interface: in-process transformers and remote OpenAI-compatible."""

from codegen.backends.base import Backend, BackendError, GenerationParams, ModelConfig, make_backend

__all__ = ["Backend", "BackendError", "GenerationParams", "ModelConfig", "make_backend"]

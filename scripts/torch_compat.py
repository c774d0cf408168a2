"""torchvision, imported even where its compiled ops cannot load (timm imports it).

The pip torchvision wheel on this machine kind is a CUDA build next to a CPU torch: its C++ ops are absent,
and registering their fake (meta) kernels raises at import. Nothing in this project's scripts uses those ops,
so the registrations are skipped for the import. Matched builds (Debian's python3-torch and
python3-torchvision) have no register_fake and import as is.
"""
import torch
import torch.library


def import_torchvision():
    register_fake = getattr(torch.library, 'register_fake', None)
    if register_fake is None:
        import torchvision
        return torchvision
    torch.library.register_fake = lambda *a, **k: (lambda f: f)
    try:
        import torchvision
    finally:
        torch.library.register_fake = register_fake
    return torchvision

"""The bookkeeping behind every moto patch: idempotent install, exact undo, deferred apply.

Each patch is a named function that replaces a few attributes of moto's classes or
modules. Patches are process-global (moto is), so installing one twice must be a no-op,
and canary tests must be able to take one out again to show moto's own behaviour.

Two patches may wrap the same attribute (``install_ecs_inprocess`` and ``install_ecs_workers``
both wrap ``run_task``): the later one keeps the earlier one's function as the one it calls.
Taking the earlier one out alone would leave the later one calling it, and the later one's own
undo would put it back, so every patch stacked on it is taken out first (newest first); the next
``install_all`` puts them all back in order.

A patch of a service's models can wait for moto to load that service (``service=``):
moto imports a service's models only when a request first reaches it, and ECS's and
Batch's import all of EC2's (about 2 s, most of a ``run --sandbox`` of Lambda tasks), so a
run that never calls them should not import them to patch them. Such a patch counts as
installed at once (``is_installed``, idempotence, undo); it is applied inside
``moto.backends.get_backend``, which every request calls before it reaches the service,
in the patches' install order and before moto imports the service.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

Undo = Callable[[], None]
"""Calling it removes the patch it came from; calling it again does nothing."""

_MISSING = object()
_LOCK = threading.RLock()
_INSTALLED: dict[str, Undo] = {}
_PATCHERS: dict[str, Patcher] = {}
_PENDING: dict[str, list[tuple[str, Patcher, Callable[[Patcher], None]]]] = {}
"""moto service -> the patches (name, patcher, apply) waiting for moto to load it, in install order."""
_LOADS_EVERY_SERVICE = "cloudformation"
"""A stack's resources are created through every service's models, not through requests."""


class Patcher:
    """Records attribute replacements so they can be reverted exactly.

    The saved value is read from the target's own ``__dict__``, not through ``getattr``:
    that keeps staticmethod/classmethod wrappers intact on undo and deletes attributes
    that were only inherited before the patch.
    """

    def __init__(self) -> None:
        self._saved: list[tuple[object, str, object]] = []

    def setattr(self, target: object, name: str, value: object) -> None:
        """Replace ``target.name`` with ``value``, remembering the old binding."""
        self._saved.append((target, name, vars(target).get(name, _MISSING)))
        setattr(target, name, value)

    def replaced(self) -> list[tuple[object, str]]:
        """The attributes replaced so far, as (target, name)."""
        return [(target, name) for target, name, _ in self._saved if name]

    def overlaps(self, other: Patcher) -> bool:
        """Whether this patcher replaced an attribute ``other`` replaced too."""
        mine = {(id(target), name) for target, name in self.replaced()}
        return any((id(target), name) in mine for target, name in other.replaced())

    def on_undo(self, action: Callable[[], None]) -> None:
        """Run ``action`` when the patch is removed (for in-place edits of moto data)."""
        self._saved.append((action, "", _MISSING))

    def restore(self) -> None:
        """Undo every replacement, newest first."""
        while self._saved:
            target, name, old = self._saved.pop()
            if not name:
                target_action: Callable[[], None] = target  # type: ignore[assignment]
                target_action()
            elif old is _MISSING:
                delattr(target, name)
            else:
                setattr(target, name, old)


def install_patch(name: str, apply: Callable[[Patcher], None], *, service: str | None = None) -> Undo:
    """Install the patch ``name`` once; return the callable that removes it.

    Args:
        name: unique patch name (the public install function's name).
        apply: performs the replacements through the given :class:`Patcher`.
        service: the moto service (``get_backend`` name) whose models ``apply`` imports and
            patches: applied when moto loads the service (at once if it has; see the module
            docstring). ``apply`` must then import them itself.

    Returns:
        An idempotent undo callable, which first removes the later patches stacked on the same
        attributes. Installing an installed patch returns the same one.
    """
    with _LOCK:
        existing = _INSTALLED.get(name)
        if existing is not None:
            return existing
        patcher = Patcher()
        if service is not None and f"moto.{service}.models" not in sys.modules:
            _install_backend_hook()
            _PENDING.setdefault(service, []).append((name, patcher, apply))
        else:
            if service is not None:
                _apply_pending(service)  # loaded some other way: keep the install order
            _apply(patcher, apply)

        def undo() -> None:
            with _LOCK:
                if _INSTALLED.get(name) is not undo:
                    return
                names = list(_INSTALLED)
                for later in reversed(names[names.index(name) + 1 :]):
                    if later in _INSTALLED and _PATCHERS[later].overlaps(patcher):
                        _INSTALLED[later]()  # stacked on this one: out first (see the module doc)
                del _INSTALLED[name]
                del _PATCHERS[name]
                for waiting in _PENDING.values():
                    waiting[:] = [entry for entry in waiting if entry[0] != name]
                patcher.restore()

        _INSTALLED[name] = undo
        _PATCHERS[name] = patcher
        return undo


def _apply(patcher: Patcher, apply: Callable[[Patcher], None]) -> None:
    try:
        apply(patcher)
    except BaseException:
        patcher.restore()
        raise


def _apply_pending(service: str) -> None:
    """Apply the patches waiting for ``service`` (for CloudFormation: every waiting patch)."""
    with _LOCK:
        services = list(_PENDING) if service == _LOADS_EVERY_SERVICE else [service]
        for name in services:
            waiting = _PENDING.get(name, [])
            while waiting:  # one by one: a failing patch leaves the later ones waiting
                patch_name, patcher, apply = waiting.pop(0)
                try:
                    _apply(patcher, apply)
                except BaseException:
                    _INSTALLED.pop(patch_name, None)
                    raise
            _PENDING.pop(name, None)


def _install_backend_hook() -> None:
    """Wrap ``moto.backends.get_backend`` (looked up on the module by every caller) so that the
    first request to a service applies the patches waiting for it."""
    import moto.backends  # noqa: PLC0415 - the patches' own imports stay lazy

    original = moto.backends.get_backend

    def get_backend(name: str) -> Any:
        if name in _PENDING or (name == _LOADS_EVERY_SERVICE and _PENDING):
            _apply_pending(name)
        return original(name)  # type: ignore[call-overload]

    def apply(p: Patcher) -> None:
        p.setattr(moto.backends, "get_backend", get_backend)

    install_patch("apply_deferred_patches", apply)


def is_installed(name: str) -> bool:
    """Whether the patch called ``name`` is currently installed."""
    with _LOCK:
        return name in _INSTALLED


def installed_patches() -> list[str]:
    """Names of the installed patches, in install order."""
    with _LOCK:
        return list(_INSTALLED)


def uninstall_all() -> None:
    """Remove every installed patch, newest first, restoring moto as shipped."""
    with _LOCK:
        for undo in reversed(list(_INSTALLED.values())):
            undo()

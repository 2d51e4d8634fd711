"""Type stubs of the extension module (called through `ltv`'s Python functions)."""

from os import PathLike
from typing import Any, Dict, List, Optional, Union

_Input = Any
_Path = Union[str, PathLike]
__version__: str

def features(
    orders: _Input,
    events: Optional[_Input],
    comments: Optional[_Input],
    customers: Optional[_Input],
    cutoff: str,
    horizon_text: str,
    label: bool,
    opts: Dict[str, Any],
    threads: Optional[int],
) -> Any: ...
def train(
    orders: _Input,
    events: Optional[_Input],
    comments: Optional[_Input],
    customers: Optional[_Input],
    cutoff: str,
    horizon_text: str,
    model: str,
    settings_json: str,
    opts: Dict[str, Any],
    threads: Optional[int],
) -> ModelFile: ...
def sentiment(texts: List[str], threads: Optional[int]) -> Any: ...
def synth(
    out_dir: _Path, customers: int, seed: int, parquet: bool, threads: Optional[int]
) -> List[str]: ...

class ModelFile:
    @staticmethod
    def load(path: _Path) -> ModelFile: ...
    def save(self, path: _Path) -> None: ...
    def to_json(self) -> str: ...
    def score(
        self,
        orders: _Input,
        events: Optional[_Input],
        comments: Optional[_Input],
        customers: Optional[_Input],
        as_of: str,
        tier_a: float,
        tier_b: float,
        opts: Dict[str, Any],
        threads: Optional[int],
    ) -> Any: ...
    def evaluate(
        self,
        orders: _Input,
        events: Optional[_Input],
        comments: Optional[_Input],
        customers: Optional[_Input],
        cutoff: str,
        horizon_text: str,
        opts: Dict[str, Any],
        threads: Optional[int],
    ) -> str: ...

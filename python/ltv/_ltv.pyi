"""Type stubs of the extension module (called through `ltv`'s Python functions).

`opts` is the dict of read options `ltv._opts` makes; its `"progress"` entry, when not None, is
called as `progress(done, total, stage)` on the calling thread while the engine works.
"""

from os import PathLike
from typing import Any, Dict, List, Optional, Tuple, Union

_Input = Any
_Path = Union[str, PathLike]
_Capsule = Any
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
) -> _Capsule: ...
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
def sentiment(texts: List[str], threads: Optional[int]) -> _Capsule: ...
def synth(
    out_dir: _Path, customers: int, seed: int, parquet: bool, threads: Optional[int]
) -> List[str]: ...
def kpis(
    orders: _Input,
    events: Optional[_Input],
    customers: Optional[_Input],
    as_of: str,
    period: str,
    scores: Optional[_Input],
    opts: Dict[str, Any],
    threads: Optional[int],
) -> str: ...
def report(
    orders: _Input,
    events: Optional[_Input],
    customers: Optional[_Input],
    scores: _Input,
    as_of: str,
    period: str,
    model: Optional[ModelFile],
    previous_scores: Optional[_Input],
    actuals: Optional[str],
    opts: Dict[str, Any],
    threads: Optional[int],
) -> str: ...
def run_month(
    config: _Path,
    month: str,
    output_dir: Optional[_Path],
    allow_partial_window: bool,
    progress: Optional[Any],
) -> Tuple[str, str]: ...
def fit_matrix(
    kind: str,
    x: bytes,
    rows: int,
    cols: int,
    y: bytes,
    settings_json: str,
    threads: Optional[int],
) -> str: ...
def predict_matrix(
    model_json: str, x: bytes, rows: int, cols: int, threads: Optional[int]
) -> List[float]: ...

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
    ) -> _Capsule: ...
    def predict(self, features: _Input, threads: Optional[int]) -> _Capsule: ...
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
def spark_fold(
    partition: _Input,
    given: List[bool],
    cutoff: str,
    horizon_text: str,
    label: bool,
    opts: Dict[str, Any],
    threads: Optional[int],
) -> _Capsule: ...
def spark_rescore(table: _Input, bounds_json: str) -> _Capsule: ...
def spark_tiers(table: _Input, value_column: str, a: float, b: float) -> _Capsule: ...
def quintile_ranks(n: int, higher_is_better: bool) -> List[int]: ...
def tier_ranks(n: int, a_share: float, b_share: float) -> Tuple[int, int]: ...
def sniff_utc_offset(table: _Input) -> Optional[int]: ...

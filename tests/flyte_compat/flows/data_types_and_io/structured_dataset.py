# flytesnacks' examples/data_types_and_io/data_types_and_io/structured_dataset.py, its imports changed
# (flytekit -> stratoflow); the NumPy encoder/decoder half is left out (custom StructuredDataset
# handlers are not supported: see the README).
import pandas as pd
from stratoflow import kwtypes, task, workflow
from stratoflow.types.structured.structured_dataset import StructuredDataset
from typing_extensions import Annotated


@task
def generate_pandas_df(a: int) -> pd.DataFrame:
    return pd.DataFrame({"Name": ["Tom", "Joseph"], "Age": [a, 22], "Height": [160, 178]})


all_cols = kwtypes(Name=str, Age=int, Height=int)
col = kwtypes(Age=int)


@task
def get_subset_pandas_df(df: Annotated[StructuredDataset, all_cols]) -> Annotated[StructuredDataset, col]:
    df = df.open(pd.DataFrame).all()
    df = pd.concat([df, pd.DataFrame([[30]], columns=["Age"])])
    return StructuredDataset(dataframe=df)


@workflow
def simple_sd_wf(a: int = 19) -> Annotated[StructuredDataset, col]:
    pandas_df = generate_pandas_df(a=a)
    return get_subset_pandas_df(df=pandas_df)


from stratoflow.types.structured.structured_dataset import CSV


@task
def pandas_to_csv(df: pd.DataFrame) -> Annotated[StructuredDataset, CSV]:
    return StructuredDataset(dataframe=df)


@workflow
def pandas_to_csv_wf() -> Annotated[StructuredDataset, CSV]:
    pandas_df = generate_pandas_df(a=19)
    return pandas_to_csv(df=pandas_df)

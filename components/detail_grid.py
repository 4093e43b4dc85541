"""The detail grid: the rows behind a chart, sortable and filterable, with CSV and Excel export."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import dash_ag_grid as dag
import pandas as pd
from dash import dcc, html

from citybrain.i18n import t


def detail_grid(grid_id: str, rows: pd.DataFrame, columns: Sequence[tuple[str, str]], lang: str,
                *, export_prefix: str, exportable: bool = True) -> html.Div:
    """An AgGrid of ``rows``; ``columns`` are (field, header). Export buttons use the ids
    ``{export_prefix}-csv`` / ``-xlsx`` and the download ``{export_prefix}-download``; without
    ``exportable`` (a viewer the server would refuse) there are none."""
    defs = [{"field": field, "headerName": header, "sortable": True, "filter": True,
             "resizable": True, **({"type": "numericColumn", "filter": "agNumberColumnFilter"}
                                   if pd.api.types.is_numeric_dtype(rows[field]) else {})}
            for field, header in columns if field in rows.columns]
    return html.Div([
        html.Div([
            html.Span(t("detail_rows", lang) + f" · {len(rows)}", className="grid-count",
                      id=f"{export_prefix}-count"),
            *([html.Button(t("export_csv", lang), id=f"{export_prefix}-csv", className="btn btn-export"),
               html.Button(t("export_xlsx", lang), id=f"{export_prefix}-xlsx", className="btn btn-export"),
               dcc.Download(id=f"{export_prefix}-download")] if exportable else []),
        ], className="grid-toolbar"),
        dag.AgGrid(id=grid_id, rowData=rows.to_dict("records"), columnDefs=defs,
                   defaultColDef={"flex": 1, "minWidth": 110},
                   dashGridOptions={"pagination": True, "paginationPageSize": 20,
                                    "animateRows": False},
                   className="ag-theme-alpine-dark detail-grid", style={"height": "420px"}),
    ], className="detail-grid-box")


def export_bytes(rows: pd.DataFrame, columns: Sequence[tuple[str, str]], fmt: str) -> bytes:
    """The rows as a CSV (UTF-8 with BOM, so spreadsheet programs read Chinese) or XLSX file."""
    table = rows[[f for f, _ in columns if f in rows.columns]].rename(columns=dict(columns))
    if fmt == "csv":
        return table.to_csv(index=False).encode("utf-8-sig")
    if fmt == "xlsx":
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            table.to_excel(writer, index=False, sheet_name="data")
        return buffer.getvalue()
    raise ValueError(f"unknown export format {fmt!r}: expected 'csv' or 'xlsx'")


def download(rows: pd.DataFrame, columns: Sequence[tuple[str, str]], fmt: str, name: str) -> dict[str, Any]:
    """What a ``dcc.Download`` needs to save the rows as ``name.<fmt>``."""
    return dcc.send_bytes(export_bytes(rows, columns, fmt), f"{name}.{fmt}")

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

st.title("Page one")
rng = np.random.default_rng(3)
frame = pd.DataFrame({"month": pd.date_range("2025-01-01", periods=24, freq="MS"), "referrals": rng.integers(100, 900, 24)})
st.plotly_chart(px.line(frame, x="month", y="referrals", title="Referrals by month"))
st.dataframe(frame, hide_index=True)

import pytest

import tkern

DEVICES = ["cpu"] + (["cuda"] if tkern.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param

"""HTTP API. Run locally with: uvicorn app.main:app --reload"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status

from app.models import Task, TaskCreate, TaskPage, TaskUpdate
from app.store import TaskStore

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def get_store(request: Request) -> TaskStore:
    store: TaskStore = request.app.state.store
    return store


Store = Annotated[TaskStore, Depends(get_store)]

router = APIRouter()


def _not_found(task_id: int) -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"Task {task_id} not found")


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/tasks", response_model=TaskPage)
def list_tasks(
    store: Store,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> TaskPage:
    items, total = store.list(page=page, page_size=page_size)
    return TaskPage(items=items, total=total, page=page, page_size=page_size)


@router.post("/tasks", response_model=Task, status_code=status.HTTP_201_CREATED)
def create_task(payload: TaskCreate, store: Store) -> Task:
    return store.add(payload)


@router.get("/tasks/{task_id}", response_model=Task)
def get_task(task_id: int, store: Store) -> Task:
    task = store.get(task_id)
    if task is None:
        raise _not_found(task_id)
    return task


@router.patch("/tasks/{task_id}", response_model=Task)
def update_task(task_id: int, payload: TaskUpdate, store: Store) -> Task:
    task = store.update(task_id, payload.model_dump(exclude_unset=True))
    if task is None:
        raise _not_found(task_id)
    return task


@router.post("/tasks/{task_id}/complete", response_model=Task)
def complete_task(task_id: int, store: Store) -> Task:
    task = store.get(task_id)
    if task is None:
        raise _not_found(task_id)
    if task.done:
        raise HTTPException(
            status_code=status.HTTP_409_CONFLICT,
            detail=f"Task {task_id} is already completed",
        )
    completed = store.update(task_id, {"done": True, "completed_at": store.now()})
    assert completed is not None
    return completed


@router.delete("/tasks/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_task(task_id: int, store: Store) -> Response:
    if not store.delete(task_id):
        raise _not_found(task_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def create_app(store: TaskStore | None = None) -> FastAPI:
    application = FastAPI(title="Taskboard API", version="1.0.0")
    application.state.store = store if store is not None else TaskStore()
    application.include_router(router)
    return application


app = create_app()

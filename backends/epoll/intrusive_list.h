// File: intrusive_list.h
//
// A circular doubly linked list whose nodes live inside their owners (an
// awaiter in a coroutine frame, a spawned task's promise). Linking and
// unlinking are O(1) and allocate nothing, and a node unlinks itself when
// destroyed, so destroying a coroutine frame can never leave the loop
// holding a pointer into it. Loop-thread only.
#ifndef TERN_BACKENDS_EPOLL_INTRUSIVE_LIST_H_
#define TERN_BACKENDS_EPOLL_INTRUSIVE_LIST_H_

namespace tern::epoll::detail {

class ListNode {
 public:
  ListNode() noexcept = default;
  ListNode(const ListNode&) = delete;
  ListNode& operator=(const ListNode&) = delete;
  ~ListNode() { unlink(); }

  bool linked() const noexcept { return next_ != nullptr; }
  void unlink() noexcept {
    if (next_ == nullptr) return;
    next_->prev_ = prev_;
    prev_->next_ = next_;
    next_ = prev_ = nullptr;
  }

 private:
  template <typename T>
  friend class List;
  ListNode* next_ = nullptr;
  ListNode* prev_ = nullptr;
};

// T derives from ListNode.
template <typename T>
class List {
 public:
  List() noexcept { head_.next_ = head_.prev_ = &head_; }
  List(const List&) = delete;
  List& operator=(const List&) = delete;
  ~List() {
    while (!empty()) head_.next_->unlink();
    head_.next_ = head_.prev_ = nullptr;
  }

  bool empty() const noexcept { return head_.next_ == &head_; }
  void push_back(T& item) noexcept {
    ListNode& n = item;
    n.unlink();
    n.next_ = &head_;
    n.prev_ = head_.prev_;
    head_.prev_->next_ = &n;
    head_.prev_ = &n;
  }
  T* front() noexcept { return empty() ? nullptr : static_cast<T*>(head_.next_); }
  // Unlinks and returns the first item, or nullptr.
  T* pop_front() noexcept {
    T* t = front();
    if (t != nullptr) static_cast<ListNode*>(t)->unlink();
    return t;
  }
  // Moves every item onto `other`'s back, leaving this list empty.
  void move_to(List& other) noexcept {
    while (T* t = pop_front()) other.push_back(*t);
  }

 private:
  ListNode head_;
};

}  // namespace tern::epoll::detail

#endif  // TERN_BACKENDS_EPOLL_INTRUSIVE_LIST_H_

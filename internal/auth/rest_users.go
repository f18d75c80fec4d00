package auth

import "context"

// UsersPage returns accounts [offset, offset+limit) in ListUsers' order
// (negative values count as 0).
func (s *Service) UsersPage(ctx context.Context, offset, limit int) ([]*User, error) {
	us, err := s.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	offset, limit = max(offset, 0), max(limit, 0)
	if offset >= len(us) {
		return []*User{}, nil
	}
	return us[offset:min(offset+limit, len(us))], nil
}
